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

    [Fact]
    public async Task WhenIdleAsync_TasksEndingOutOfOrder_EachWaitEndsWhenItsOwnTasksHaveEnded()
    {
        await using var harness = new Harness();
        TaskCompletionSource[] gates = Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        SupervisedTask a = harness.Supervisor.Run(_ => gates[0].Task);
        SupervisedTask b = harness.Supervisor.Run(_ => gates[1].Task);
        SupervisedTask c = harness.Supervisor.Run(_ => gates[2].Task);

        Task first = harness.Supervisor.WhenIdleAsync();
        SupervisedTask d = harness.Supervisor.Run(_ => gates[3].Task);
        Task second = harness.Supervisor.WhenIdleAsync();

        gates[0].SetResult(); // the oldest first
        await a.Task.Within();
        gates[2].SetResult(); // then the newest of the first three
        await c.Task.Within();
        first.IsCompleted.Should().BeFalse("b has not ended");

        gates[1].SetResult();
        await first.Within();
        second.IsCompleted.Should().BeFalse("d, started after the first wait, has not ended");

        gates[3].SetResult();
        await second.Within();
        d.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task WhenIdleAsync_ManyThreadsStartingAndWaiting_EveryWaitEnds()
    {
        await using var harness = new Harness();

        Task[] threads = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (int round = 0; round < 200; round++)
            {
                for (int i = 0; i < 10; i++)
                {
                    harness.Supervisor.Run(static async _ => await Task.Yield());
                }

                await harness.Supervisor.WhenIdleAsync().Within();
            }
        })).ToArray();

        await Task.WhenAll(threads).Within();
        await harness.Supervisor.WhenIdleAsync().Within();
        harness.Supervisor.Count.Should().Be(0);
    }
}
