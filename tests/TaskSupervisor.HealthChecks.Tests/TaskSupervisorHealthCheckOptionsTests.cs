namespace TaskSupervision.HealthChecks.Tests;

public sealed class TaskSupervisorHealthCheckOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new TaskSupervisorHealthCheckOptions();

        options.Window.Should().Be(TimeSpan.FromMinutes(5));
        options.UnhealthyFaultedShare.Should().Be(0.5);
        options.MinimumEnded.Should().Be(10);
        options.UnhealthyFaultedCount.Should().BeNull();
        options.UnhealthyOnGaveUp.Should().BeTrue();
        options.MaxTaskAge.Should().BeNull();
        options.DegradedPendingShare.Should().Be(0.8);
    }

    public static TheoryData<Action<TaskSupervisorHealthCheckOptions>> BadValues() => new()
    {
        o => o.Window = TimeSpan.Zero,
        o => o.Window = TimeSpan.FromSeconds(-1),
        o => o.Window = Timeout.InfiniteTimeSpan,
        o => o.UnhealthyFaultedShare = 0,
        o => o.UnhealthyFaultedShare = 1.01,
        o => o.UnhealthyFaultedShare = double.NaN,
        o => o.MinimumEnded = 0,
        o => o.UnhealthyFaultedCount = 0,
        o => o.MaxTaskAge = TimeSpan.Zero,
        o => o.DegradedPendingShare = -0.1,
        o => o.DegradedPendingShare = 2,
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void BadValues_DoNotThrowInTheSetter_ValidationReportsThem(Action<TaskSupervisorHealthCheckOptions> set)
    {
        var options = new TaskSupervisorHealthCheckOptions();

        FluentActions.Invoking(() => set(options)).Should().NotThrow("a throwing setter breaks configuration binding");
        options.GetProblems().Should().ContainSingle();
    }

    [Fact]
    public void Defaults_AreValid() => new TaskSupervisorHealthCheckOptions().GetProblems().Should().BeEmpty();
}
