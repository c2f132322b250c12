namespace TaskSupervision.Tests.Queries;

/// <summary>Options that cannot apply are rejected at the call (issue 12).</summary>
public sealed class OptionRulesTests
{
    private static readonly TaskOptions s_replace = new() { IfKeyRunning = KeyConflictBehavior.Replace };

    [Fact]
    public async Task UnkeyedStarts_WithAConflictBehaviour_ThrowArgumentException_NothingStarts()
    {
        await using var harness = new Harness();
        TaskSupervisor s = harness.Supervisor;

        s.Invoking(x => x.Run(_ => Task.CompletedTask, s_replace)).Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*IfKeyRunning*");
        s.Invoking(x => x.Run(_ => Task.FromResult(1), s_replace)).Should().Throw<ArgumentException>().WithParameterName("options");
        s.Invoking(x => x.Run(1, static (_, _) => Task.CompletedTask, s_replace)).Should().Throw<ArgumentException>().WithParameterName("options");
        s.Invoking(x => x.TryRun(_ => Task.CompletedTask, out _, out _, s_replace)).Should().Throw<ArgumentException>().WithParameterName("options");
        await s.Awaiting(x => x.RunAsync(_ => Task.CompletedTask, s_replace)).Should().ThrowAsync<ArgumentException>().WithParameterName("options");
        s.Count.Should().Be(0);
    }

    [Fact]
    public async Task KeyedTryRun_WithAConflictBehaviour_ThrowsArgumentException()
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(x => x.TryRun("k", _ => Task.CompletedTask, out _, out _, s_replace)).Should().Throw<ArgumentException>().WithParameterName("options");
        harness.Supervisor.Invoking(x => x.TryRun("k", _ => Task.FromResult(1), out _, out _, new TaskOptions { IfKeyRunning = KeyConflictBehavior.UseExisting }))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task DefaultConflictBehaviour_IsAcceptedEverywhere()
    {
        await using var harness = new Harness();
        var named = new TaskOptions { Name = "x" };

        harness.Supervisor.Run(_ => Task.CompletedTask, named).Should().NotBeNull();
        harness.Supervisor.TryRun("k", _ => Task.CompletedTask, out _, out _, named).Should().BeTrue();
        await harness.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public void TaskTimeout_BeyondTheTimerLimitOrNegative_IsRejectedWhereSet_InfiniteMeansNone()
    {
        FluentActions.Invoking(() => new TaskOptions { Timeout = TaskSupervisorOptions.MaxTimeout + TimeSpan.FromMilliseconds(1) }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new TaskOptions { Timeout = TimeSpan.FromSeconds(-2) }).Should().Throw<ArgumentOutOfRangeException>();
        new TaskOptions { Timeout = Timeout.InfiniteTimeSpan }.Timeout.Should().Be(Timeout.InfiniteTimeSpan, "infinite means no timeout, as null does");
        new TaskOptions { Timeout = TaskSupervisorOptions.MaxTimeout }.Timeout.Should().Be(TaskSupervisorOptions.MaxTimeout);
    }

    [Fact]
    public void MaxTimeout_IsTheTimerLimit()
    {
        TaskSupervisorOptions.MaxTimeout.Should().Be(TimeSpan.FromMilliseconds(uint.MaxValue - 1.0));
        using var cts = new CancellationTokenSource();
        cts.Invoking(c => c.CancelAfter(TaskSupervisorOptions.MaxTimeout)).Should().NotThrow();
    }
}
