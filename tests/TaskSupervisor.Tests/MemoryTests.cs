using System.Runtime.CompilerServices;

namespace TaskSupervision.Tests;

/// <summary>Measures process-wide memory, so it runs alone.</summary>
[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection
{
}

[Collection(nameof(MemoryCollection))]
public sealed class MemoryTests
{
    [Fact]
    public async Task FinishedTasks_AreForgotten_HandlesAreCollectable()
    {
        await using var harness = new Harness();
        WeakReference[] handles = StartAndForget(harness.Supervisor, 1000);
        await harness.Supervisor.WhenIdleAsync().Within();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // A thread-pool worker may still hold its last work item in a stack slot until it runs another one: that is the
        // runtime's, not a leak, and a handful at most (one per worker). A supervisor that kept finished tasks would keep
        // all 1,000.
        handles.Count(h => h.IsAlive).Should().BeLessThan(50, "the supervisor keeps no finished task");
        harness.Supervisor.GetSnapshot().Should().BeEmpty();
    }

    [Fact]
    public async Task KeyedTasksEndedByADrain_AreCollectableOnceTheDrainEnds()
    {
        // A drain leaves the keys of the tasks it ends in the key table (no look-up per task) and clears the table when
        // the last one has ended: nothing of them may stay behind.
        var supervisor = new TaskSupervisor();
        WeakReference[] handles = StartKeyedUntilCancelled(supervisor, 1000);
        DrainReport report = await supervisor.DrainAsync().Within();
        report.Canceled.Should().Be(1000);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        handles.Count(h => h.IsAlive).Should().BeLessThan(50, "the supervisor keeps no ended task, not even in its key table");
        GC.KeepAlive(supervisor);
    }

    [Fact]
    public async Task TasksEndedByADrain_AreCollectable_WhileTheDrainsWorkerIsStuckInAnotherTasksCallback()
    {
        // The drain cancels the newest task first, and its worker blocks in that task's cancellation callback; the
        // watchdog adds a worker that cancels the other 1,000, and the drain ends. The stuck worker must not keep them
        // alive: it once held the drain's list of every task it was to cancel.
        var supervisor = new TaskSupervisor();
        using var running = new CountdownEvent(1001);
        using var release = new ManualResetEventSlim();
        WeakReference[] handles = StartRunningUntilCancelled(supervisor, running, 1000);

        // Its work ends as its callback is entered (on another thread: the source runs its continuations asynchronously),
        // while the callback itself blocks the drain's worker until the end of the test.
        var callbackEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        supervisor.Run(ct =>
        {
            ct.Register(() =>
            {
                callbackEntered.TrySetResult();
                release.Wait(TestExtensions.Bound);
            });
            running.Signal();
            return callbackEntered.Task;
        });
        running.Wait(TestExtensions.Bound).Should().BeTrue("every task runs before the drain begins");

        try
        {
            DrainReport report = await supervisor.DrainAsync().Within();
            report.Canceled.Should().Be(1000);
            report.Completed.Should().Be(1);

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            handles.Count(h => h.IsAlive).Should().BeLessThan(50, "the stuck worker holds only the task whose callback it runs");
        }
        finally
        {
            release.Set();
        }

        GC.KeepAlive(supervisor);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] StartRunningUntilCancelled(TaskSupervisor supervisor, CountdownEvent running, int count)
    {
        var handles = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            handles[i] = new WeakReference(supervisor.Run(ct =>
            {
                running.Signal();
                return Task.Delay(Timeout.Infinite, ct);
            }));
        }

        return handles;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] StartKeyedUntilCancelled(TaskSupervisor supervisor, int count)
    {
        var handles = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            handles[i] = new WeakReference(supervisor.Run("key:" + i, ct => Task.Delay(Timeout.Infinite, ct)));
        }

        return handles;
    }

    [Fact]
    public async Task MillionFinishedTasks_MemoryReturnsToWithinASmallBoundOfTheStart()
    {
        await using var supervisor = new TaskSupervisor();
        var options = new TaskOptions { Name = "tiny" };
        await RunBatches(supervisor, options, 10_000); // warm up the pool and the JIT
        long before = GC.GetTotalMemory(forceFullCollection: true);

        await RunBatches(supervisor, options, 1_000_000);
        long after = GC.GetTotalMemory(forceFullCollection: true);

        supervisor.Count.Should().Be(0);
        // A leak of even 4 bytes per task would show as 4 MB; what remains is the runtime's own growth (pool threads, JIT).
        (after - before).Should().BeLessThan(4 * 1024 * 1024, "1,000,000 finished tasks leave nothing behind");
    }

    [Fact]
    public async Task LongEnqueueLine_WithCancelledSuccessors_AfterItDrains_NoTaskOfItStaysAlive()
    {
        // Regression (issue 11): each successor of a line waits for the whole line before it; that wait must not keep
        // the line's tasks alive once the line has drained.
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WeakReference[] handles = StartLine(harness.Supervisor, release.Task, 2000, KeyConflictBehavior.Enqueue, cancelEveryOther: true);
        harness.Supervisor.Count.Should().BeGreaterThan(1, "the first task of the line still runs");
        release.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();

        CollectAll();
        handles.Count(h => h.IsAlive).Should().BeLessThan(50, "a drained line keeps none of its tasks");
    }

    [Fact]
    public async Task LongReplaceChain_WhileTheRunningTaskIgnoresItsToken_AfterItEnds_NoTaskOfItStaysAlive()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WeakReference[] handles = StartLine(harness.Supervisor, release.Task, 2000, KeyConflictBehavior.Replace, cancelEveryOther: false);
        harness.Supervisor.Count.Should().BeGreaterThan(1, "the first task of the line ignores its token and still runs");
        release.SetResult();
        await harness.Supervisor.WhenIdleAsync().Within();

        CollectAll();
        handles.Count(h => h.IsAlive).Should().BeLessThan(50, "a drained chain of replacements keeps none of its tasks");
    }

    private static void CollectAll()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] StartLine(TaskSupervisor supervisor, Task release, int count, KeyConflictBehavior behavior, bool cancelEveryOther)
    {
        var options = new TaskOptions { IfKeyRunning = behavior };
        var handles = new WeakReference[count];
        handles[0] = new WeakReference(supervisor.Run("line", _ => release)); // ignores its token
        for (int i = 1; i < count; i++)
        {
            SupervisedTask task = supervisor.Run("line", static _ => Task.FromResult(new byte[1024]), options);
            if (cancelEveryOther && i % 2 == 0)
            {
                task.Cancel();
            }

            handles[i] = new WeakReference(task);
        }

        return handles;
    }

    private static async Task RunBatches(TaskSupervisor supervisor, TaskOptions options, int total)
    {
        const int Batch = 10_000;
        for (int done = 0; done < total; done += Batch)
        {
            for (int i = 0; i < Batch; i++)
            {
                supervisor.Run(static _ => Task.CompletedTask, options);
            }

            await supervisor.WhenIdleAsync().Within();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] StartAndForget(TaskSupervisor supervisor, int count)
    {
        var handles = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            handles[i] = new WeakReference(i % 2 == 0
                ? supervisor.Run($"key:{i}", static _ => Task.FromResult(new byte[1024]))
                : supervisor.Run(static async _ => { await Task.Yield(); throw new InvalidOperationException("dropped"); }));
        }

        return handles;
    }
}
