namespace TaskSupervision.Tests;

public sealed class RunTests
{
    [Fact]
    public async Task Run_ReturnsBeforeTheWorksSynchronousPrefixRuns()
    {
        await using var harness = new Harness();
        using var gate = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        SupervisedTask task = harness.Supervisor.Run(_ =>
        {
            entered.SetResult();
            gate.Wait(TestExtensions.Bound); // blocks synchronously, before any await
            return Task.CompletedTask;
        });

        // Run returned although the work is blocked in its synchronous part: it did not run on this thread.
        await entered.Task.Within();
        task.Status.Should().Be(SupervisedTaskStatus.Running);
        gate.Set();
        await task.Task.Within();
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task Run_StartsTheWorkOnTheThreadPool()
    {
        await using var harness = new Harness();
        int callerThread = Environment.CurrentManagedThreadId;

        SupervisedTask<(bool Pool, int Thread)> task = harness.Supervisor.Run(_ =>
            Task.FromResult((Thread.CurrentThread.IsThreadPoolThread, Environment.CurrentManagedThreadId)));

        (bool pool, int thread) = await task.Task.Within();
        pool.Should().BeTrue();
        thread.Should().NotBe(callerThread);
    }

    [Fact]
    public async Task Run_WithResult_TaskCompletesWithTheResult()
    {
        await using var harness = new Harness();

        SupervisedTask<int> task = harness.Supervisor.Run(async ct =>
        {
            await Task.Yield();
            return 42;
        });

        (await task.Task.Within()).Should().Be(42);
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task Run_HandleDescribesTheTask()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTimeOffset now = harness.Time.GetUtcNow();

        SupervisedTask first = harness.Supervisor.Run(_ => release.Task, new TaskOptions { Name = "send-email" });
        SupervisedTask second = harness.Supervisor.Run(_ => release.Task);

        first.Name.Should().Be("send-email");
        first.Key.Should().BeNull();
        first.StartedAt.Should().Be(now);
        second.Id.Should().BeGreaterThan(first.Id);
        harness.Supervisor.Count.Should().Be(2);

        release.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task Run_FlowsTheCallersExecutionContext()
    {
        await using var harness = new Harness();
        var local = new AsyncLocal<string> { Value = "request-42" };

        SupervisedTask<string?> task = harness.Supervisor.Run(_ => Task.FromResult<string?>(local.Value));

        (await task.Task.Within()).Should().Be("request-42");
    }

    [Fact]
    public async Task Run_WorkReceivesTheTasksToken_CancelledByCancel()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);

        SupervisedTask task = harness.Supervisor.Run(async ct =>
        {
            started.SetResult(ct);
            await Task.Delay(Timeout.Infinite, ct);
        });

        CancellationToken token = await started.Task.Within();
        token.IsCancellationRequested.Should().BeFalse();
        task.Cancel();
        token.IsCancellationRequested.Should().BeTrue();
        task.IsCancellationRequested.Should().BeTrue();

        Func<Task> awaiting = () => task.Task.Within();
        (await awaiting.Should().ThrowAsync<OperationCanceledException>()).Which.CancellationToken.Should().Be(token);
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }
}
