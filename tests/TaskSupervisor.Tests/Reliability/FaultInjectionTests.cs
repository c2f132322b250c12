using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Tests.Reliability;

/// <summary>
/// Faults injected where the supervisor meets user code: callbacks, loggers, work delegates, tasks that start work or
/// dispose the supervisor from inside. Each test states what the user gets. Cases covered elsewhere are not repeated
/// here; docs/reliability.md lists them all (FaultTests, DrainTests, CancelTests).
/// </summary>
public sealed class FaultInjectionTests
{
    private static readonly TimeSpan ShortShutdown = TimeSpan.FromSeconds(5);

    // --- Callbacks that throw -------------------------------------------------------------------------------------

    [Fact]
    public async Task ThrowingCallbacks_OnEveryTask_DuringADrain_EveryTaskStillEnds_AndTheDrainCompletes()
    {
        await using var harness = new Harness(o => o.OnTaskEnded = _ => throw new InvalidOperationException("supervisor callback"));
        var started = new CountdownEvent(20);
        var tasks = Enumerable.Range(0, 20).Select(i => harness.Supervisor.Run($"k:{i}", async ct =>
        {
            started.Signal();
            await Task.Delay(Timeout.Infinite, ct);
        }, new TaskOptions { OnEnded = _ => throw new InvalidOperationException("task callback") })).ToArray();
        started.Wait(TestExtensions.Bound).Should().BeTrue();

        DrainReport report = await harness.Supervisor.DrainAsync().Within();

        report.IsComplete.Should().BeTrue();
        report.Canceled.Should().Be(20);
        tasks.Should().OnlyContain(t => t.Status == SupervisedTaskStatus.Canceled);
        harness.Supervisor.Count.Should().Be(0);
        harness.LogsWithEvent("CallbackFailed").Should().HaveCount(40, "each throwing callback is logged once per task");
    }

    [Fact]
    public async Task ThrowingCallback_OnAFaultedKeyedTask_TheHandleStillFaultsWithTheWorksException_AndTheKeyIsFree()
    {
        await using var harness = new Harness(o => o.OnTaskEnded = _ => throw new InvalidOperationException("supervisor callback"));
        var boom = new FormatException("the work's own fault");

        SupervisedTask task = harness.Supervisor.Run("k", async _ => { await Task.Yield(); throw boom; }, new TaskOptions
        {
            OnEnded = _ => throw new InvalidOperationException("task callback"),
        });

        (await task.Awaiting(t => t.Task.Within()).Should().ThrowAsync<FormatException>()).Which.Should().BeSameAs(boom);
        harness.Supervisor.TryGetTask("k", out _).Should().BeFalse();
        harness.Supervisor.Run("k", _ => Task.CompletedTask).Should().NotBeNull("the key is free for the next task");
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle().Which.Exception.Should().BeSameAs(boom);
    }

    // --- A logger that throws -------------------------------------------------------------------------------------

    [Fact]
    public async Task ThrowingLogger_DrainWithAStraggler_StillReturnsTheReportAtTheDeadline_AndCallbacksStillRun()
    {
        var time = new FakeTimeProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new ThrowingLoggerProvider()));
        int ended = 0;
        var supervisor = new TaskSupervisor(
            new TaskSupervisorOptions { TimeProvider = time, ShutdownTimeout = ShortShutdown, OnTaskEnded = _ => Interlocked.Increment(ref ended) },
            factory);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask stubborn = supervisor.Run("stubborn", _ => { started.SetResult(); return release.Task; });
        SupervisedTask faulty = supervisor.Run(_ => throw new InvalidOperationException("fault"));
        await started.Task.Within();
        await faulty.Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();

        Task<DrainReport> drain = supervisor.DrainAsync();
        await time.AdvanceUntil(() => drain.IsCompleted, TimeSpan.FromSeconds(1));
        DrainReport report = await drain;

        report.Stragglers.Should().ContainSingle().Which.Key.Should().Be("stubborn");
        faulty.Status.Should().Be(SupervisedTaskStatus.Faulted);
        release.SetResult();
        await stubborn.Task.Within();
        ended.Should().Be(2, "every task's callbacks ran although every log call threw");
        supervisor.Count.Should().Be(0);
    }

    // --- Delegates that misbehave ---------------------------------------------------------------------------------

    [Fact]
    public async Task SynchronousOperationCanceledException_NobodyCancelled_IsReportedAsAFault()
    {
        await using var harness = new Harness();

        SupervisedTask task = harness.Supervisor.Run(_ => throw new OperationCanceledException("thrown before any await"));

        await task.Awaiting(t => t.Task.Within()).Should().ThrowAsync<OperationCanceledException>();
        task.Status.Should().Be(SupervisedTaskStatus.Faulted, "a cancellation nobody requested is a failure");
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle();
    }

    [Fact]
    public async Task NullTask_FromADelegateWithAResult_IsAFault_AndAwaitingTheHandleThrows()
    {
        await using var harness = new Harness();

        SupervisedTask<int> task = harness.Supervisor.Run<int>(_ => null!);

        await task.Awaiting(t => t.Task.Within()).Should().ThrowAsync<InvalidOperationException>().WithMessage("*returned a null Task*");
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle();
    }

    [Fact]
    public async Task BlockedThread_DrainReturnsAtItsDeadlineOnTheFakeClock_ReportsItAsAStraggler_AndItsLateEndIsStillReported()
    {
        int ended = 0;
        await using var harness = new Harness(o =>
        {
            o.ShutdownTimeout = ShortShutdown;
            o.OnTaskEnded = _ => Interlocked.Increment(ref ended);
        });
        using var gate = new ManualResetEventSlim();
        using var blocked = new ManualResetEventSlim();
        SupervisedTask task = harness.Supervisor.Run("blocker", _ =>
        {
            blocked.Set();
            gate.Wait(); // no token: cancellation cannot reach this thread
            return Task.CompletedTask;
        }, new TaskOptions { Name = "blocking-io" });
        blocked.Wait(TestExtensions.Bound).Should().BeTrue();

        Task<DrainReport> drain = harness.Supervisor.DrainAsync();
        await harness.Time.AdvanceUntil(() => drain.IsCompleted, TimeSpan.FromSeconds(1));
        DrainReport report = await drain;

        report.Elapsed.Should().BeGreaterThanOrEqualTo(ShortShutdown);
        SupervisedTaskInfo straggler = report.Stragglers.Should().ContainSingle().Which;
        (straggler.Key, straggler.Name, straggler.Status).Should().Be(("blocker", "blocking-io", SupervisedTaskStatus.Running));
        harness.LogsWithEvent("DrainStraggler").Should().ContainSingle();
        harness.Supervisor.Count.Should().Be(1, "a straggler stays tracked");
        ended.Should().Be(0);

        gate.Set();
        await task.Task.Within();
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion, "the work returned normally, although late");
        ended.Should().Be(1, "a straggler's late end is reported like any other");
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task IgnoresCancellationForever_TheDrainReportsIt_LaterDrainsReturnThatReport_AndCancelAsyncSaysStillRunning()
    {
        await using var harness = new Harness(o => o.ShutdownTimeout = ShortShutdown);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("forever", async _ =>
        {
            started.SetResult();
            await release.Task; // never looks at its token
        });
        await started.Task.Within();

        Task<DrainReport> drain = harness.Supervisor.DrainAsync();
        await harness.Time.AdvanceUntil(() => drain.IsCompleted, TimeSpan.FromSeconds(1));
        DrainReport first = await drain;

        first.Stragglers.Should().ContainSingle().Which.Key.Should().Be("forever");
        (await harness.Supervisor.DrainAsync(TimeSpan.FromHours(1)).Within()).Should().BeSameAs(first, "only the first drain runs; its timeout is the one that counts");
        harness.Supervisor.TryGetTask("forever", out SupervisedTask? straggler).Should().BeTrue();
        Task<CancelResult> cancel = straggler!.CancelAsync(TimeSpan.FromSeconds(1));
        await harness.Time.AdvanceUntil(() => cancel.IsCompleted, TimeSpan.FromSeconds(1));
        (await cancel).Should().Be(CancelResult.StillRunning);
        release.SetResult();
        await straggler.Task.Within();
    }

    // --- Work started from inside supervised tasks while the supervisor drains -------------------------------------

    [Fact]
    public async Task StartFromATasksCleanup_WhileDraining_RunThrowsSupervisorClosed_TryRunReturnsClosed_AndStartsNothing()
    {
        await using var harness = new Harness();
        var refusals = new List<Exception>();
        var tries = new List<(bool Started, SupervisedTask? Task, StartRefusal Refusal)>();
        bool followUpRan = false;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(async ct =>
        {
            try
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                foreach (Action start in new Action[]
                {
                    () => harness.Supervisor.Run(_ => { followUpRan = true; return Task.CompletedTask; }),
                    () => harness.Supervisor.Run("follow-up", _ => { followUpRan = true; return Task.CompletedTask; }),
                })
                {
                    try
                    {
                        start();
                    }
                    catch (ObjectDisposedException ex) // the catch written before SupervisorClosedException existed still works
                    {
                        refusals.Add(ex);
                    }
                }

                bool unkeyed = harness.Supervisor.TryRun(_ => { followUpRan = true; return Task.CompletedTask; }, out SupervisedTask? t1, out StartRefusal r1);
                tries.Add((unkeyed, t1, r1));
                bool keyed = harness.Supervisor.TryRun("follow-up", _ => { followUpRan = true; return Task.CompletedTask; }, out SupervisedTask? t2, out StartRefusal r2);
                tries.Add((keyed, t2, r2));
                throw;
            }
        });
        await started.Task.Within();

        DrainReport report = await harness.Supervisor.DrainAsync().Within();

        report.IsComplete.Should().BeTrue();
        refusals.Should().HaveCount(2).And.AllBeOfType<SupervisorClosedException>();
        refusals.Cast<SupervisorClosedException>().Should().AllSatisfy(ex =>
        {
            ex.IsDraining.Should().BeTrue("the drain was in progress");
            ex.SupervisorName.Should().Be(harness.Supervisor.Name);
            ex.Message.Should().Contain($"'{harness.Supervisor.Name}' is draining");
        });
        tries.Should().Equal((false, null, StartRefusal.Closed), (false, null, StartRefusal.Closed));
        followUpRan.Should().BeFalse();
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.TryGetTask("follow-up", out _).Should().BeFalse();
    }

    [Fact]
    public async Task StartFromATasksCleanup_WhileDraining_Uncaught_EndsThatTaskAsFaultedWithSupervisorClosedException()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run("parent", async ct =>
        {
            try
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                harness.Supervisor.Run(_ => Task.CompletedTask); // throws: the supervisor is draining
            }
        });
        await started.Task.Within();

        DrainReport report = await harness.Supervisor.DrainAsync().Within();

        report.IsComplete.Should().BeTrue();
        task.Status.Should().Be(SupervisedTaskStatus.Faulted);
        task.Exception.Should().BeOfType<SupervisorClosedException>();
        harness.LogsWithEvent("TaskFaulted").Should().ContainSingle().Which.State("TaskKey").Should().Be("parent");
    }

    [Fact]
    public async Task RunAsync_WaitingForRoom_WhenTheDrainBegins_ThrowsSupervisorClosedException_AndStartsNothing()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 1; });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        harness.Supervisor.Run(_ => Task.CompletedTask); // queued: the queue is full
        await started.Task.Within();
        bool ran = false;

        Task<SupervisedTask> waiting = harness.Supervisor.RunAsync(_ => { ran = true; return Task.CompletedTask; }).AsTask();
        waiting.IsCompleted.Should().BeFalse();
        DrainReport report = await harness.Supervisor.DrainAsync().Within();

        (await waiting.Awaiting(t => t.Within()).Should().ThrowAsync<SupervisorClosedException>()).Which.SupervisorName.Should().Be(harness.Supervisor.Name);
        report.IsComplete.Should().BeTrue();
        ran.Should().BeFalse();
        harness.Supervisor.Count.Should().Be(0);
        harness.Supervisor.PendingCount.Should().Be(0);
    }

    // Regression tests: with MaxPending = 0, RunAsync used to wait on the queue's room semaphore, which only a queued task
    // ever releases, so neither a freed run slot nor a drain woke it (found by these tests, fixed in 1dce4d2).
    [Fact]
    public async Task RunAsync_MaxPendingZero_WaitsForARunSlot_AndStartsWhenOneFrees()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask first = harness.Supervisor.Run(_ => release.Task);

        Task<SupervisedTask> waiting = harness.Supervisor.RunAsync(_ => Task.CompletedTask).AsTask();
        waiting.IsCompleted.Should().BeFalse();
        release.SetResult();
        await first.Task.Within();

        SupervisedTask second = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        await second.Task.Within();
    }

    [Fact]
    public async Task RunAsync_MaxPendingZero_WaitingWhenTheDrainBegins_ThrowsSupervisorClosedException()
    {
        await using var harness = new Harness(o => { o.MaxConcurrency = 1; o.MaxPending = 0; });
        harness.Supervisor.Run(ct => Task.Delay(Timeout.Infinite, ct));

        Task<SupervisedTask> waiting = harness.Supervisor.RunAsync(_ => Task.CompletedTask).AsTask();
        (await harness.Supervisor.DrainAsync().Within()).IsComplete.Should().BeTrue();

        await waiting.Awaiting(t => t.WaitAsync(TimeSpan.FromSeconds(5))).Should().ThrowAsync<SupervisorClosedException>();
    }

    // --- Dispose from several threads, and from inside a supervised task -------------------------------------------

    [Fact]
    public async Task DisposeDrainAndSyncDispose_FromManyThreadsAtOnce_WithAStraggler_AllReturnAtTheOneDeadline()
    {
        await using var harness = new Harness(o => o.ShutdownTimeout = ShortShutdown);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenSeen = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("stubborn", _ => { started.SetResult(); return release.Task; });
        SupervisedTask polite = harness.Supervisor.Run(ct => { tokenSeen.SetResult(ct); return Task.Delay(Timeout.Infinite, ct); });
        await started.Task.Within();
        await tokenSeen.Task.Within();
        TaskSupervisor supervisor = harness.Supervisor;

        // Synchronous Dispose blocks its thread until the drain ends: give those their own threads.
        Task[] callers =
        [
            .. Enumerable.Range(0, 4).Select(_ => Task.Run(() => supervisor.DisposeAsync().AsTask())),
            .. Enumerable.Range(0, 2).Select(_ => Task.Run(() => supervisor.DrainAsync(TimeSpan.FromSeconds(1)))),
            .. Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(supervisor.Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)),
        ];
        // The drain signals cancellation on a thread-pool work item, and the task that honours its token ends on another:
        // move the clock only once that task has ended, so that it is never counted a straggler on a loaded machine.
        await harness.Time.AdvanceUntil(() => callers.All(c => c.IsCompleted), TimeSpan.FromSeconds(1), () => polite.Task.IsCompleted);
        await Task.WhenAll(callers);

        harness.LogsWithEvent("DrainStarted").Should().ContainSingle("the drain runs once");
        DrainReport report = await supervisor.DrainAsync().Within();
        report.Stragglers.Should().ContainSingle().Which.Key.Should().Be("stubborn");
        release.SetResult();
        await supervisor.WhenIdleAsync().Within();
        supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task DisposeAsync_AwaitedFromInsideASupervisedTask_WaitsForItself_ReturnsAtTheDeadline_ReportingTheCallerAsAStraggler()
    {
        await using var harness = new Harness(o => o.ShutdownTimeout = ShortShutdown);
        var tokenSeen = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var returned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask caller = harness.Supervisor.Run("self-disposer", async ct =>
        {
            tokenSeen.SetResult(ct);
            await harness.Supervisor.DisposeAsync(); // waits for every task, this one included
            returned.SetResult();
        }, new TaskOptions { Name = "self-disposer" });
        CancellationToken token = await tokenSeen.Task.Within();

        // The drain cancels the caller's token, then waits for the caller, which waits for the drain: only the deadline
        // ends it. The clock moves only once the drain has signalled cancellation (it does so on a thread-pool work item).
        await harness.Time.AdvanceUntil(() => returned.Task.IsCompleted, TimeSpan.FromSeconds(1), () => token.IsCancellationRequested);
        token.IsCancellationRequested.Should().BeTrue("the drain cancels the calling task too");
        DrainReport report = await harness.Supervisor.DrainAsync().Within();
        report.Elapsed.Should().BeGreaterThanOrEqualTo(ShortShutdown);
        report.Stragglers.Should().ContainSingle().Which.Key.Should().Be("self-disposer");

        await caller.Task.Within();
        caller.Status.Should().Be(SupervisedTaskStatus.RanToCompletion, "after the await the work returned normally");
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task Dispose_SynchronousFromInsideASupervisedTask_BlocksThatThreadUntilTheDeadline_ThenReturns()
    {
        await using var harness = new Harness(o => o.ShutdownTimeout = ShortShutdown);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask caller = harness.Supervisor.Run("sync-disposer", _ =>
        {
            entered.SetResult();
            harness.Supervisor.Dispose(); // blocks this thread-pool thread on the drain, which waits for this task
            return Task.CompletedTask;
        });
        await entered.Task.Within();

        await harness.Time.AdvanceUntil(() => caller.Task.IsCompleted, TimeSpan.FromSeconds(1));

        DrainReport report = await harness.Supervisor.DrainAsync().Within();
        report.Stragglers.Should().ContainSingle().Which.Key.Should().Be("sync-disposer");
        caller.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
        harness.Supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task DisposeAsync_StartedButNotAwaitedFromInsideASupervisedTask_DrainsEverything_TheCallerIncluded()
    {
        await using var harness = new Harness(o => o.ShutdownTimeout = ShortShutdown);
        var drainTask = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        var otherStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask other = harness.Supervisor.Run(async ct => { otherStarted.SetResult(); await Task.Delay(Timeout.Infinite, ct); });
        await otherStarted.Task.Within();
        SupervisedTask caller = harness.Supervisor.Run("shutdown-requester", async ct =>
        {
            drainTask.SetResult(harness.Supervisor.DisposeAsync().AsTask()); // ask for shutdown, then honour the token like any task
            await Task.Delay(Timeout.Infinite, ct);
        });

        Task drain = await drainTask.Task.Within();
        await drain.Within();

        DrainReport report = await harness.Supervisor.DrainAsync().Within();
        report.IsComplete.Should().BeTrue("no fake time had to pass: every task honoured its token");
        report.Elapsed.Should().Be(TimeSpan.Zero);
        caller.Status.Should().Be(SupervisedTaskStatus.Canceled);
        other.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task WhenIdleAsync_FromInsideASupervisedTask_WaitsForThatTaskToo_SoOnlyItsTokenEndsTheWait()
    {
        await using var harness = new Harness();
        using var stop = new CancellationTokenSource();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(async _ =>
        {
            Task idle = harness.Supervisor.WhenIdleAsync(stop.Token); // includes this very task: it can never complete on its own
            waiting.SetResult();
            await idle;
        });
        await waiting.Task.Within();
        task.IsEnded.Should().BeFalse();

        stop.Cancel();

        await task.Awaiting(t => t.Task.Within()).Should().ThrowAsync<OperationCanceledException>();
        task.Status.Should().Be(SupervisedTaskStatus.Faulted, "the wait's token is not the task's: a cancellation nobody requested");
    }

    private sealed class ThrowingLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger();

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => throw new InvalidOperationException("logger");

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw new InvalidOperationException("logger");
        }
    }
}
