namespace TaskSupervision.Tests;

public sealed class WhenIdleTests
{
    [Fact]
    public async Task WhenIdleAsync_NothingRunning_CompletesAtOnce()
    {
        await using var harness = new Harness();

        harness.Supervisor.WhenIdleAsync().IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task WhenIdleAsync_WaitsForTasksRunningAtTheCall_IncludingFaultedOnes_WithoutThrowing()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(async _ => { await release.Task; });
        harness.Supervisor.Run(async _ => { await release.Task; throw new InvalidOperationException("x"); });

        Task idle = harness.Supervisor.WhenIdleAsync();
        idle.IsCompleted.Should().BeFalse();
        release.SetResult();

        await idle.Within();
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task WhenIdleAsync_DoesNotWaitForTasksStartedLater()
    {
        await using var harness = new Harness();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => first.Task);

        Task idle = harness.Supervisor.WhenIdleAsync();
        harness.Supervisor.Run(_ => later.Task);
        first.SetResult();

        await idle.Within();
        harness.Supervisor.Count.Should().Be(1);
        later.SetResult();
    }

    [Fact]
    public async Task WhenIdleAsync_TokenCancelled_Throws()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);
        using var stop = new CancellationTokenSource();

        Task idle = harness.Supervisor.WhenIdleAsync(stop.Token);
        stop.Cancel();

        await idle.Awaiting(t => t.Within()).Should().ThrowAsync<OperationCanceledException>();
        release.SetResult();
    }
}
