namespace TaskSupervision.Tests;

public sealed class KeyedTests
{
    private static Func<CancellationToken, Task> UntilCancelled(TaskCompletionSource? started = null, Action? onCleanup = null) =>
        async ct =>
        {
            started?.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                onCleanup?.Invoke();
            }
        };

    [Fact]
    public async Task Run_KeyTaken_ThrowsTaskKeyConflictException_AndLeavesTheRunningTaskAlone()
    {
        await using var harness = new Harness();
        SupervisedTask first = harness.Supervisor.Run("monitor:1", UntilCancelled());

        Action second = () => harness.Supervisor.Run("monitor:1", _ => Task.CompletedTask);

        second.Should().Throw<TaskKeyConflictException>().Which.Key.Should().Be("monitor:1");
        harness.Supervisor.TryGetTask("monitor:1", out SupervisedTask? found).Should().BeTrue();
        found.Should().BeSameAs(first);
        first.IsCancellationRequested.Should().BeFalse();
        harness.Supervisor.Count.Should().Be(1);
    }

    [Fact]
    public async Task TryRun_KeyTaken_ReturnsFalse_KeyInUse_AndTheTaskThatHoldsTheKey()
    {
        await using var harness = new Harness();
        SupervisedTask holder = harness.Supervisor.Run("k", UntilCancelled());

        bool started = harness.Supervisor.TryRun("k", _ => Task.CompletedTask, out SupervisedTask? task, out StartRefusal refusal);

        started.Should().BeFalse();
        refusal.Should().Be(StartRefusal.KeyInUse);
        task.Should().BeSameAs(holder);
        harness.Supervisor.Count.Should().Be(1);
    }

    [Fact]
    public async Task TypedTryRun_KeyHeldByTaskOfAnotherResultType_ReturnsFalse_KeyInUse_WithoutAHandle()
    {
        await using var harness = new Harness();
        harness.Supervisor.Run("k", UntilCancelled());

        bool started = harness.Supervisor.TryRun("k", _ => Task.FromResult(7), out SupervisedTask<int>? task, out StartRefusal refusal);

        started.Should().BeFalse();
        refusal.Should().Be(StartRefusal.KeyInUse, "the reason does not depend on the holder's type");
        task.Should().BeNull("the holder produces no int");
    }

    [Fact]
    public async Task TryRun_KeyFree_StartsTheWork()
    {
        await using var harness = new Harness();

        bool started = harness.Supervisor.TryRun("k", _ => Task.FromResult(7), out SupervisedTask<int>? task, out StartRefusal refusal);

        started.Should().BeTrue();
        refusal.Should().Be(StartRefusal.None);
        (await task!.Task.Within()).Should().Be(7);
    }

    [Fact]
    public async Task Run_Replace_CancelsTheOldTask_AndStartsTheNewOneOnlyAfterTheOldOneEnded()
    {
        await using var harness = new Harness();
        var oldStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var oldMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<string>();
        SupervisedTask old = harness.Supervisor.Run("k", async ct =>
        {
            oldStarted.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                await oldMayEnd.Task; // slow cleanup
                lock (order) order.Add("old ended");
            }
        });
        await oldStarted.Task.Within();

        SupervisedTask replacement = harness.Supervisor.Run(
            "k",
            _ =>
            {
                lock (order) order.Add("new started");
                return Task.CompletedTask;
            },
            new TaskOptions { IfKeyRunning = KeyConflictBehavior.Replace });

        old.IsCancellationRequested.Should().BeTrue();
        replacement.Status.Should().Be(SupervisedTaskStatus.Pending);
        harness.Supervisor.TryGetTask("k", out SupervisedTask? owner).Should().BeTrue();
        owner.Should().BeSameAs(replacement);

        oldMayEnd.SetResult();
        await replacement.Task.Within();
        order.Should().Equal("old ended", "new started");
        old.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task Run_ReplaceTwice_RunsOnlyTheLast_AndNeverTwoAtOnce()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var replace = new TaskOptions { IfKeyRunning = KeyConflictBehavior.Replace };
        int ran = 0;
        var cReplacedB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask a = harness.Supervisor.Run("k", async ct =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                await cReplacedB.Task; // A ends only once C has replaced B, so B is still waiting for A then
            }
        });
        await started.Task.Within();

        SupervisedTask b = harness.Supervisor.Run("k", _ => { Interlocked.Increment(ref ran); return Task.CompletedTask; }, replace);
        SupervisedTask c = harness.Supervisor.Run("k", _ => Task.CompletedTask, replace);
        cReplacedB.SetResult();
        await c.Task.Within();

        a.Status.Should().Be(SupervisedTaskStatus.Canceled);
        b.Status.Should().Be(SupervisedTaskStatus.Canceled);
        ran.Should().Be(0, "B was replaced while it waited for A, so it never ran");
        c.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task Run_UseExisting_ReturnsTheRunningHandle_AndDoesNotStartTheWork()
    {
        await using var harness = new Harness();
        SupervisedTask first = harness.Supervisor.Run("k", UntilCancelled());
        bool secondRan = false;

        SupervisedTask second = harness.Supervisor.Run(
            "k",
            _ => { secondRan = true; return Task.CompletedTask; },
            new TaskOptions { IfKeyRunning = KeyConflictBehavior.UseExisting });

        second.Should().BeSameAs(first);
        harness.Supervisor.Count.Should().Be(1);
        await harness.Supervisor.CancelAsync("k", Timeout.InfiniteTimeSpan).Within();
        secondRan.Should().BeFalse();
    }

    [Fact]
    public async Task Run_UseExisting_WithAnotherResultType_Throws()
    {
        await using var harness = new Harness();
        harness.Supervisor.Run("k", UntilCancelled());

        Action act = () => harness.Supervisor.Run("k", _ => Task.FromResult(1), new TaskOptions { IfKeyRunning = KeyConflictBehavior.UseExisting });

        act.Should().Throw<InvalidOperationException>().WithMessage("*does not produce*");
    }

    [Fact]
    public async Task Key_IsReleasedWhenTheTaskEnds_SoTheKeyCanBeReused()
    {
        await using var harness = new Harness();
        await harness.Supervisor.Run("k", _ => Task.CompletedTask).Task.Within();

        harness.Supervisor.TryGetTask("k", out _).Should().BeFalse();
        SupervisedTask again = harness.Supervisor.Run("k", _ => Task.CompletedTask);
        await again.Task.Within();
    }

    [Fact]
    public async Task Key_IsReleasedBeforeTheHandleCompletes()
    {
        await using var harness = new Harness();
        bool? keyHeldDuringCallback = null;
        SupervisedTask task = harness.Supervisor.Run("k", _ => Task.CompletedTask, new TaskOptions
        {
            OnEnded = e => keyHeldDuringCallback = harness.Supervisor.TryGetTask("k", out _),
        });

        await task.Task.Within();

        keyHeldDuringCallback.Should().BeFalse("a key never maps to a task that has ended");
    }

    [Fact]
    public async Task DuringADrain_AKeyOfAnEndedTaskIsNotFound_AStragglersKeyIs()
    {
        // A drain does not take each ended task's key out of the table (it ignores the keys of tasks whose end has begun):
        // seen from outside, a key still maps only to a task that has not ended.
        await using var harness = new Harness(o => o.DrainGracePeriod = TimeSpan.Zero);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask polite = harness.Supervisor.Run("polite", ct => Task.Delay(Timeout.Infinite, ct));
        var stubbornStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask stubborn = harness.Supervisor.Run("stubborn", async _ =>
        {
            stubbornStarted.TrySetResult();
            await release.Task; // ignores its token
        });
        await stubbornStarted.Task.Within();

        Task<DrainReport> drain = harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(5));
        await polite.Task.ContinueWith(static _ => { }, TaskScheduler.Default).Within();

        harness.Supervisor.TryGetTask("polite", out _).Should().BeFalse("the task has ended");
        (await harness.Supervisor.CancelAsync("polite", TimeSpan.Zero).Within()).Should().Be(CancelResult.NotFound);
        harness.Supervisor.TryGetTask("stubborn", out SupervisedTask? found).Should().BeTrue("the straggler has not ended");
        found.Should().BeSameAs(stubborn);

        harness.Time.Advance(TimeSpan.FromSeconds(5));
        DrainReport report = await drain.Within();
        report.Stragglers.Should().ContainSingle(s => s.Key == "stubborn");
        harness.Supervisor.TryGetTask("stubborn", out _).Should().BeTrue("a straggler is still tracked after the deadline");

        release.TrySetResult();
        await stubborn.Task.Within();
        harness.Supervisor.TryGetTask("stubborn", out _).Should().BeFalse();
    }

    [Fact]
    public async Task GetSnapshot_ListsKeyNameStatusAndAge()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("monitor:7", UntilCancelled(started), new TaskOptions { Name = "monitor" });
        await started.Task.Within();
        harness.Time.Advance(TimeSpan.FromSeconds(3));

        IReadOnlyList<SupervisedTaskInfo> snapshot = harness.Supervisor.GetSnapshot();

        SupervisedTaskInfo info = snapshot.Should().ContainSingle().Which;
        info.Key.Should().Be("monitor:7");
        info.Name.Should().Be("monitor");
        info.Status.Should().Be(SupervisedTaskStatus.Running);
        info.Age.Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Keys_AreOrdinal()
    {
        await using var harness = new Harness();
        harness.Supervisor.Run("Key", UntilCancelled());

        harness.Supervisor.TryGetTask("key", out _).Should().BeFalse();
        harness.Supervisor.TryRun("key", UntilCancelled(), out _, out _).Should().BeTrue();
    }
}
