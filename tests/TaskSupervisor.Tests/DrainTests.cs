using Microsoft.Extensions.Logging;

namespace TaskSupervision.Tests;

public sealed class DrainTests
{
    [Fact]
    public async Task DrainOrder_TasksAdmittedOnSeveralThreads_NewestFirst_AcrossTheRegistrysStripes()
    {
        // Each admitting thread adds to its own stripe of the registry; the drain cancels in creation order, newest first,
        // across stripes (the order of the tasks' objects in memory), not stripe after stripe; pending tasks before all.
        // Checked on the order the drain is given, which its single cancelling worker follows.
        await using var owner = new TaskSupervisor();
        var registry = new TaskSupervision.Internal.TaskRegistry();
        var created = new System.Collections.Concurrent.ConcurrentBag<SupervisedTask>();
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                for (int i = 0; i < 25; i++)
                {
                    var task = new SupervisedTask(owner, key: null, (Func<CancellationToken, Task>)(_ => Task.CompletedTask), options: null);
                    registry.TryAdmit(task).Should().BeTrue();
                    created.Add(task);
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        created.Select(t => t.RegistryStripe).Distinct().Should().HaveCountGreaterThan(1, "the threads used several stripes");
        registry.Close(new TaskSupervision.Internal.DrainTally(), out _);
        List<SupervisedTask> order = registry.MarkForDrain();

        order.Should().HaveCount(100).And.OnlyHaveUniqueItems();
        order.Select(t => t.Id).Should().BeInDescendingOrder();
    }

    [Fact]
    public async Task DisposeAsync_CancelsAndAwaitsEveryTask_WithTheirCleanupRun()
    {
        var harness = new Harness();
        int cleanedUp = 0;
        var started = new CountdownEvent(3);
        for (int i = 0; i < 3; i++)
        {
            harness.Supervisor.Run($"monitor:{i}", async ct =>
            {
                started.Signal();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                finally
                {
                    Interlocked.Increment(ref cleanedUp);
                }
            });
        }

        started.Wait(TestExtensions.Bound).Should().BeTrue();

        await harness.Supervisor.DisposeAsync().AsTask().Within();

        cleanedUp.Should().Be(3);
        harness.Supervisor.Count.Should().Be(0);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task DrainAsync_ReportsWhatItDid()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        await started.Task.Within();

        DrainReport report = await harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(5)).Within();

        report.TasksAtStart.Should().Be(1);
        report.Canceled.Should().Be(1);
        report.Stragglers.Should().BeEmpty();
        report.IsComplete.Should().BeTrue();
        harness.LogsWithEvent("DrainStarted").Should().ContainSingle();
        harness.LogsWithEvent("DrainCompleted").Should().ContainSingle();
    }

    [Fact]
    public async Task DrainAsync_TaskIgnoresToken_ReturnsAtTheTimeout_AndLogsTheStragglerByKeyAndName()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("stubborn:1", async _ => { started.SetResult(); await release.Task; }, new TaskOptions { Name = "stubborn" });
        await started.Task.Within();

        Task<DrainReport> drain = harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(10));
        harness.Time.Advance(TimeSpan.FromSeconds(9));
        drain.IsCompleted.Should().BeFalse();
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        DrainReport report = await drain.Within();

        SupervisedTaskInfo straggler = report.Stragglers.Should().ContainSingle().Which;
        straggler.Key.Should().Be("stubborn:1");
        straggler.Name.Should().Be("stubborn");
        report.Elapsed.Should().Be(TimeSpan.FromSeconds(10));
        var log = harness.LogsWithEvent("DrainStraggler").Should().ContainSingle().Which;
        log.Level.Should().Be(LogLevel.Warning);
        log.State("TaskKey").Should().Be("stubborn:1");
        log.State("TaskName").Should().Be("stubborn");
        release.SetResult();
    }

    [Fact]
    public async Task DrainAsync_GracePeriod_LetsTasksFinishBeforeCancellationIsSignalled()
    {
        await using var harness = new Harness(o => o.DrainGracePeriod = TimeSpan.FromSeconds(5));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenSeen = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(async ct =>
        {
            tokenSeen.SetResult(ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        CancellationToken token = await tokenSeen.Task.Within();

        Task<DrainReport> drain = harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(30));
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        token.IsCancellationRequested.Should().BeFalse("the grace period has not elapsed");

        // The grace period ends; the drain then cancels the token (on the thread pool) and the task ends, long before the
        // deadline: the clock need not move again.
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.SetResult());
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await cancelled.Task.Within();
        DrainReport report = await drain.Within();
        report.Canceled.Should().Be(1);
        report.IsComplete.Should().BeTrue();
    }

    [Fact]
    public async Task DrainAsync_GracePeriod_TaskThatFinishesInTime_IsNotCanceled()
    {
        await using var harness = new Harness(o => o.DrainGracePeriod = TimeSpan.FromSeconds(5));
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(_ => { started.SetResult(); return finish.Task; });
        await started.Task.Within(); // running: a task still pending when a drain begins never starts

        Task<DrainReport> drain = harness.Supervisor.DrainAsync();
        finish.SetResult();
        DrainReport report = await drain.Within();

        report.Canceled.Should().Be(0);
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task DrainAsync_TaskNotYetStarted_NeverRuns()
    {
        await using var harness = new Harness(o => o.MaxConcurrency = 1);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => { started.SetResult(); return release.Task; });
        await started.Task.Within();
        bool ran = false;
        SupervisedTask queued = harness.Supervisor.Run(_ => { ran = true; return Task.CompletedTask; });

        Task<DrainReport> drain = harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(30));
        release.SetResult(); // the running task ends on its own, freeing the slot the queued one waited for
        await drain.Within();

        ran.Should().BeFalse("once a drain has begun, no pending task starts");
        queued.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task Run_AfterDisposal_ThrowsSupervisorClosedException_NotDraining_NamingTheSupervisor()
    {
        await using var harness = new Harness();
        await harness.Supervisor.DisposeAsync();

        foreach (Action start in new Action[]
        {
            () => harness.Supervisor.Run(_ => Task.CompletedTask),
            () => harness.Supervisor.Run("k", _ => Task.CompletedTask),
            () => harness.Supervisor.Run(_ => Task.FromResult(1)),
            () => harness.Supervisor.Run(0, static (_, _) => Task.CompletedTask),
        })
        {
            SupervisorClosedException ex = start.Should().Throw<SupervisorClosedException>().Which;
            ex.IsDraining.Should().BeFalse("the drain has ended");
            ex.SupervisorName.Should().Be(harness.Supervisor.Name);
            ex.Message.Should().Contain($"'{harness.Supervisor.Name}' has been drained or disposed");
            ex.Should().BeAssignableTo<ObjectDisposedException>("catch (ObjectDisposedException) written for a disposed supervisor keeps working");
        }

        await harness.Supervisor.Awaiting(s => s.RunAsync(_ => Task.CompletedTask).AsTask()).Should().ThrowAsync<SupervisorClosedException>();
        await harness.Supervisor.Awaiting(s => s.RunAsync("k", _ => Task.CompletedTask).AsTask()).Should().ThrowAsync<SupervisorClosedException>();
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.TryGetTask("k", out _).Should().BeFalse();
    }

    [Fact]
    public async Task TryRun_AfterDisposal_ReturnsFalse_WithClosed_AndStartsNothing()
    {
        await using var harness = new Harness();
        await harness.Supervisor.DisposeAsync();
        bool ran = false;

        harness.Supervisor.TryRun(_ => { ran = true; return Task.CompletedTask; }, out SupervisedTask? unkeyed, out StartRefusal r1).Should().BeFalse();
        harness.Supervisor.TryRun("k", _ => { ran = true; return Task.CompletedTask; }, out SupervisedTask? keyed, out StartRefusal r2).Should().BeFalse();
        harness.Supervisor.TryRun("k", _ => { ran = true; return Task.FromResult(1); }, out SupervisedTask<int>? typed, out StartRefusal r3).Should().BeFalse();

        (unkeyed, keyed, typed).Should().Be((null, null, null));
        new[] { r1, r2, r3 }.Should().AllBeEquivalentTo(StartRefusal.Closed);
        ran.Should().BeFalse();
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.TryGetTask("k", out _).Should().BeFalse();
    }

    [Fact]
    public async Task TryRun_ClosedWithAFullQueue_ReportsClosed_TheLastingReason()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => { running.SetResult(); return release.Task; }); // holds the only run slot, and ignores its token
        await running.Task.Within(); // a drain that begins before a task runs cancels it unstarted, and would end at once
        Task<DrainReport> drain = harness.Supervisor.DrainAsync(Timeout.InfiniteTimeSpan);

        harness.Supervisor.TryRun(_ => Task.CompletedTask, out _, out StartRefusal refusal).Should().BeFalse();
        harness.Supervisor.Invoking(s => s.Run(_ => Task.CompletedTask)).Should().Throw<SupervisorClosedException>().Which.IsDraining.Should().BeTrue();

        refusal.Should().Be(StartRefusal.Closed);
        release.SetResult();
        await drain.Within();
    }

    [Fact]
    public async Task DisposeAsync_Twice_AndConcurrently_DrainsOnce()
    {
        await using var harness = new Harness();
        harness.Supervisor.Run(ct => Task.Delay(Timeout.Infinite, ct));

        Task[] disposals = Enumerable.Range(0, 8).Select(_ => Task.Run(() => harness.Supervisor.DisposeAsync().AsTask())).ToArray();
        await Task.WhenAll(disposals).Within();
        await harness.Supervisor.DisposeAsync();

        harness.LogsWithEvent("DrainStarted").Should().ContainSingle();
        (await harness.Supervisor.DrainAsync().Within()).Should().BeSameAs(await harness.Supervisor.DrainAsync().Within());
    }

    [Fact]
    public async Task DrainAsync_PendingReplacement_NeverRuns()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var oldMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("k", async _ => { started.SetResult(); await oldMayEnd.Task; }); // slow to stop: ignores its token
        await started.Task.Within();
        bool ran = false;
        SupervisedTask pending = harness.Supervisor.Run("k", _ => { ran = true; return Task.CompletedTask; }, new TaskOptions { IfKeyRunning = KeyConflictBehavior.Replace });

        Task<DrainReport> drain = harness.Supervisor.DrainAsync();
        oldMayEnd.SetResult(); // the old task ends after the drain began: its replacement must not start
        await drain.Within();

        ran.Should().BeFalse();
        pending.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task DrainAsync_CallersToken_StopsOnlyTheWait()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => { started.SetResult(); return release.Task; });
        await started.Task.Within(); // running, and ignoring its token
        using var stop = new CancellationTokenSource();

        Task<DrainReport> waiting = harness.Supervisor.DrainAsync(Timeout.InfiniteTimeSpan, stop.Token);
        stop.Cancel();

        await waiting.Awaiting(t => t.Within()).Should().ThrowAsync<OperationCanceledException>();
        release.SetResult();
        (await harness.Supervisor.DrainAsync().Within()).IsComplete.Should().BeTrue();
    }
}
