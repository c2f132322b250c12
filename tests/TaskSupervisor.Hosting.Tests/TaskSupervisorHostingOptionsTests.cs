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
    public void Setters_NeverThrow_ValidationReportsEveryProblem()
    {
        var options = new TaskSupervisorHostingOptions();

        FluentActions.Invoking(() => { options.DrainTimeout = TimeSpan.FromSeconds(-1); options.CriticalFailureExitCode = 0; }).Should().NotThrow();
        options.GetProblems().Should().HaveCount(2).And.Contain(p => p.StartsWith("DrainTimeout", StringComparison.Ordinal)).And.Contain(p => p.StartsWith("CriticalFailureExitCode", StringComparison.Ordinal));
    }

    [Fact]
    public void InfiniteAndZeroDrainTimeouts_AreValid()
    {
        new TaskSupervisorHostingOptions { DrainTimeout = Timeout.InfiniteTimeSpan }.GetProblems().Should().BeEmpty();
        new TaskSupervisorHostingOptions { DrainTimeout = TimeSpan.Zero }.GetProblems().Should().BeEmpty();
    }
}
