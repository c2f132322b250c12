using TaskSupervision.Hosting.Internal;

namespace TaskSupervision.Hosting.Tests.Internal;

public sealed class DrainTimeoutTests
{
    [Theory]
    [InlineData(30_000, 28_000)]   // the margin is capped at 2 s
    [InlineData(10_000, 9_000)]    // 10 %
    [InlineData(5_000, 4_500)]
    [InlineData(0, 0)]
    public void GetDrainTimeout_NoOption_IsTheShutdownTimeoutLessTenPercentAtMostTwoSeconds(int shutdownMs, int expectedMs)
    {
        SupervisorDrainService.GetDrainTimeout(null, TimeSpan.FromMilliseconds(shutdownMs))
            .Should().Be(TimeSpan.FromMilliseconds(expectedMs));
    }

    [Fact]
    public void GetDrainTimeout_InfiniteShutdownTimeout_IsInfinite()
    {
        SupervisorDrainService.GetDrainTimeout(null, Timeout.InfiniteTimeSpan).Should().Be(Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public void GetDrainTimeout_Option_WinsOverTheHost()
    {
        SupervisorDrainService.GetDrainTimeout(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30)).Should().Be(TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData(2000, 9000, 2000)]
    [InlineData(30000, 9000, 9000)]
    [InlineData(-1, 9000, 9000)]
    [InlineData(2000, -1, 2000)]
    [InlineData(-1, -1, -1)]
    public void GetSupervisorDeadline_IsTheSmallerOfTheTwo_InfiniteBeingTheLargest(int supervisorMs, int hostMs, int expectedMs)
    {
        SupervisorDrainService.GetSupervisorDeadline(TimeSpan.FromMilliseconds(supervisorMs), TimeSpan.FromMilliseconds(hostMs))
            .Should().Be(TimeSpan.FromMilliseconds(expectedMs));
    }

    [Fact]
    public void GetSupervisorDeadline_SupervisorOfAnotherKind_IsTheHosts()
    {
        SupervisorDrainService.GetSupervisorDeadline(null, TimeSpan.FromSeconds(9)).Should().Be(TimeSpan.FromSeconds(9));
    }
}
