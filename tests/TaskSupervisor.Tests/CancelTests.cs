namespace TaskSupervision.Tests;

public sealed class CancelTests
{
    [Fact]
    public async Task CancelAsync_ByKey_ReturnsCanceled_AfterTheTasksCleanupRan()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool cleanedUp = false;
        harness.Supervisor.Run("monitor:1", async ct =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                await Task.Yield(); // asynchronous cleanup
                cleanedUp = true;
                throw;
            }
        });
        await started.Task.Within();

        CancelResult result = await harness.Supervisor.CancelAsync("monitor:1", Timeout.InfiniteTimeSpan).Within();

        result.Should().Be(CancelResult.Canceled);
        cleanedUp.Should().BeTrue();
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task CancelAsync_TaskThatSwallowsCancellation_ReturnsRanToCompletion()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(async ct =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
        });
        await started.Task.Within();

        (await task.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.RanToCompletion);
    }

    [Fact]
    public async Task CancelAsync_TaskThatFaultsOnCancellation_ReturnsFaulted()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(async ct =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                throw new InvalidOperationException("cleanup failed");
            }
        });
        await started.Task.Within();

        (await task.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Faulted);
        task.Exception!.Message.Should().Be("cleanup failed");
    }

    [Fact]
    public async Task CancelAsync_TaskIgnoresToken_ReturnsStillRunningAfterTimeout_AndKeepsTracking()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("stubborn", async _ =>
        {
            started.SetResult();
            await release.Task; // ignores its token
        });
        await started.Task.Within();

        Task<CancelResult> cancel = harness.Supervisor.CancelAsync("stubborn", TimeSpan.FromSeconds(5));
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        cancel.IsCompleted.Should().BeFalse();
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        (await cancel.Within()).Should().Be(CancelResult.StillRunning);
        harness.Supervisor.TryGetTask("stubborn", out _).Should().BeTrue();
        release.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task CancelAsync_UnknownKey_ReturnsNotFound()
    {
        await using var harness = new Harness();

        (await harness.Supervisor.CancelAsync("nope", TimeSpan.Zero).Within()).Should().Be(CancelResult.NotFound);
    }

    [Fact]
    public async Task CancelAsync_CallersTokenCancelled_ThrowsOperationCanceledExceptionWithThatToken()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(_ => { started.SetResult(); return release.Task; });
        await started.Task.Within(); // running, and ignoring its token
        using var stop = new CancellationTokenSource();

        Task<CancelResult> cancel = task.CancelAsync(Timeout.InfiniteTimeSpan, stop.Token);
        stop.Cancel();

        (await cancel.Awaiting(t => t.Within()).Should().ThrowAsync<OperationCanceledException>())
            .Which.CancellationToken.Should().Be(stop.Token);
        release.SetResult();
    }

    [Fact]
    public async Task Cancel_BeforeTheTaskStarts_TheWorkNeverRuns()
    {
        await using var harness = new Harness();
        var blocker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("k", async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        await started.Task.Within();
        bool ran = false;
        SupervisedTask pending = harness.Supervisor.Run("k", _ => { ran = true; return Task.CompletedTask; }, new TaskOptions { IfKeyRunning = KeyConflictBehavior.Replace });

        pending.Cancel();

        (await pending.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Canceled);
        ran.Should().BeFalse();
    }

    [Fact]
    public async Task Cancel_ThrowingTokenRegistration_IsLoggedNotThrown()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(async ct =>
        {
            ct.Register(() => throw new InvalidOperationException("registration"));
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        await started.Task.Within();

        task.Invoking(t => t.Cancel()).Should().NotThrow();

        (await task.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Canceled);
    }
}
