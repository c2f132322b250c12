using TaskSupervision.Hosting;

namespace TaskSupervision.Hosting.Tests;

public sealed class TaskSupervisorHostingOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new TaskSupervisorHostingOptions();

        options.DrainTimeout.Should().BeNull();
        options.CriticalTaskFailure.Should().Be(CriticalTaskFailureBehavior.LogOnly);
        options.CriticalFailureExitCode.Should().Be(1);
    }

    [Fact]
    public void Setters_RejectBadValues_WithArgumentOutOfRange()
    {
        var options = new TaskSupervisorHostingOptions();

        FluentActions.Invoking(() => options.DrainTimeout = TimeSpan.FromSeconds(-1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => options.CriticalFailureExitCode = 0).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => options.DrainTimeout = Timeout.InfiniteTimeSpan).Should().NotThrow();
        FluentActions.Invoking(() => options.DrainTimeout = TimeSpan.Zero).Should().NotThrow();
    }
}
