namespace TaskSupervision.Tests.Queries;

public sealed class CancelWhereTests
{
    [Fact]
    public async Task CancelWhereAsync_CancelsOnlyMatchingKeys_AwaitsThem_OthersKeepRunning()
    {
        await using var harness = new Harness();
        var started = new CountdownEvent(3);
        bool cleanedUp1 = false, cleanedUp2 = false;
        harness.Supervisor.Run("tenant:1:a", async ct => { started.Signal(); try { await Task.Delay(Timeout.Infinite, ct); } finally { await Task.Yield(); cleanedUp1 = true; } });
        harness.Supervisor.Run("tenant:1:b", async ct => { started.Signal(); try { await Task.Delay(Timeout.Infinite, ct); } finally { await Task.Yield(); cleanedUp2 = true; } });
        SupervisedTask other = harness.Supervisor.Run("tenant:2:a", async ct => { started.Signal(); await Task.Delay(Timeout.Infinite, ct); });
        await Task.Run(() => started.Wait(TestExtensions.Bound)).Within();

        CancelWhereResult result = await harness.Supervisor
            .CancelWhereAsync(key => key.StartsWith("tenant:1:", StringComparison.Ordinal), Timeout.InfiniteTimeSpan).Within();

        result.Should().Be(new CancelWhereResult(matched: 2, ranToCompletion: 0, canceled: 2, faulted: 0));
        result.StillRunning.Should().Be(0);
        result.IsComplete.Should().BeTrue();
        cleanedUp1.Should().BeTrue();
        cleanedUp2.Should().BeTrue();
        other.Status.Should().Be(SupervisedTaskStatus.Running);
        harness.Supervisor.IsClosed.Should().BeFalse("this is not a drain");
        harness.Supervisor.Run("tenant:1:a", _ => Task.CompletedTask).Should().NotBeNull("the keys are free again");
    }

    [Fact]
    public async Task CancelWhereAsync_TaskIgnoringItsToken_CountedStillRunningAfterTheTimeout()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("stubborn", async _ => { started.SetResult(); await release.Task; });
        await started.Task.Within();

        Task<CancelWhereResult> cancel = harness.Supervisor.CancelWhereAsync(_ => true, TimeSpan.FromSeconds(5));
        await harness.Time.AdvanceUntil(() => cancel.IsCompleted, TimeSpan.FromSeconds(1));
        CancelWhereResult result = await cancel.Within();

        result.Matched.Should().Be(1);
        result.StillRunning.Should().Be(1);
        harness.Supervisor.TryGetTask("stubborn", out _).Should().BeTrue("it stays tracked and keeps its key");
        release.SetResult();
    }

    [Fact]
    public async Task CancelWhereAsync_CountsEachOutcome()
    {
        await using var harness = new Harness();
        var started = new CountdownEvent(3);
        harness.Supervisor.Run("k:done", async ct => { started.Signal(); try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { } });
        harness.Supervisor.Run("k:fault", async ct => { started.Signal(); try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { throw new InvalidOperationException("cleanup failed"); } });
        harness.Supervisor.Run("k:cancel", async ct => { started.Signal(); await Task.Delay(Timeout.Infinite, ct); });
        await Task.Run(() => started.Wait(TestExtensions.Bound)).Within();

        CancelWhereResult result = await harness.Supervisor.CancelWhereAsync(k => k.StartsWith("k:", StringComparison.Ordinal), Timeout.InfiniteTimeSpan).Within();

        result.Should().Be(new CancelWhereResult(3, ranToCompletion: 1, canceled: 1, faulted: 1));
    }

    [Fact]
    public async Task CancelWhereAsync_EnqueuedSuccessor_IsCancelledBeforeItsPredecessorEnds_AndNeverRuns()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool successorRan = false;
        harness.Supervisor.Run("session:1", async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        SupervisedTask successor = harness.Supervisor.Run("session:1", _ => { successorRan = true; return Task.CompletedTask; }, new TaskOptions { IfKeyRunning = KeyConflictBehavior.Enqueue });
        await started.Task.Within();

        CancelWhereResult result = await harness.Supervisor.CancelWhereAsync(k => k == "session:1", Timeout.InfiniteTimeSpan).Within();

        result.Matched.Should().Be(2);
        result.Canceled.Should().Be(2);
        successorRan.Should().BeFalse();
        successor.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task CancelWhereAsync_NothingMatches_ReturnsZeroAtOnce_UnkeyedTasksNeverMatch()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask unkeyed = harness.Supervisor.Run(_ => release.Task);
        var seen = new List<string>();

        Task<CancelWhereResult> cancel = harness.Supervisor.CancelWhereAsync(k => { seen.Add(k); return true; }, TimeSpan.Zero);

        cancel.IsCompletedSuccessfully.Should().BeTrue();
        (await cancel).Matched.Should().Be(0);
        seen.Should().BeEmpty();
        unkeyed.IsCancellationRequested.Should().BeFalse();
        release.SetResult();
    }

    [Fact]
    public async Task CancelWhereAsync_PredicateThrows_ThrowsAtTheCall_NoTaskCancelled()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask a = harness.Supervisor.Run("a", _ => release.Task);
        SupervisedTask b = harness.Supervisor.Run("b", _ => release.Task);

#pragma warning disable TS0003 // deliberately discarded: the call throws before it returns a task
        FluentActions.Invoking(() => { _ = harness.Supervisor.CancelWhereAsync(k => k == "b" ? throw new FormatException("bad predicate") : true, Timeout.InfiniteTimeSpan); })
            .Should().Throw<FormatException>();
#pragma warning restore TS0003

        a.IsCancellationRequested.Should().BeFalse();
        b.IsCancellationRequested.Should().BeFalse();
        release.SetResult();
    }

    [Fact]
    public async Task CancelWhereAsync_BadArguments_Throw()
    {
        await using var harness = new Harness();

#pragma warning disable TS0003 // deliberately discarded: the calls throw before they return a task
        FluentActions.Invoking(() => { _ = harness.Supervisor.CancelWhereAsync(null!, TimeSpan.Zero); }).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => { _ = harness.Supervisor.CancelWhereAsync(_ => true, TimeSpan.FromMilliseconds(-2)); }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => { _ = harness.Supervisor.CancelWhereAsync(_ => true, TaskSupervisorOptions.MaxTimeout + TimeSpan.FromMilliseconds(1)); }).Should().Throw<ArgumentOutOfRangeException>();
#pragma warning restore TS0003
    }
}
