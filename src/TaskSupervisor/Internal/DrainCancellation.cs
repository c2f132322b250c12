namespace TaskSupervision.Internal;

#pragma warning disable TS0001 // the supervisor's own drain: these work items only cancel tracked tasks, and catch what they run

/// <summary>
/// Cancels the tasks a drain counted, so that one slow cancellation callback holds up only its own task: workers on the
/// thread pool take the tasks one at a time from a shared index and cancel each inline (no allocation per task), and a
/// watchdog adds a worker whenever the index has not moved for <see cref="StallPeriod"/>, so a worker stuck in a
/// callback never keeps the others waiting for longer than that.
/// </summary>
/// <remarks>
/// The watchdog runs on real time, not on the supervisor's <see cref="TimeProvider"/>: it is not a timeout anyone sees,
/// only how soon a stuck worker is relieved, and it must relieve it even while a test's fake clock stands still.
/// </remarks>
internal sealed class DrainCancellation : IThreadPoolWorkItem
{
    /// <summary>How long the index may stand still before another worker is added.</summary>
    internal static readonly TimeSpan StallPeriod = TimeSpan.FromMilliseconds(10);

    // Null once the drain has seen every task end (Stop): a worker still queued then, or stuck in a callback, keeps none.
    private List<SupervisedTask>? _tasks;
    private readonly ITimer _watchdog;
    private int _claimed = -1;
    private int _claimedAtLastCheck = -1;

    private DrainCancellation(List<SupervisedTask> tasks)
    {
        _tasks = tasks;
        _watchdog = TimeProvider.System.CreateTimer(static s => ((DrainCancellation)s!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Starts cancelling <paramref name="tasks"/> in their order, on the thread pool; returns at once.</summary>
    /// <returns>The cancellation to <see cref="Stop"/> once every task has ended; <see langword="null"/> if there was none.</returns>
    public static DrainCancellation? Start(List<SupervisedTask> tasks)
    {
        if (tasks.Count == 0)
        {
            return null;
        }

        var cancellation = new DrainCancellation(tasks);
        cancellation._watchdog.Change(StallPeriod, StallPeriod);

        ThreadPool.UnsafeQueueUserWorkItem(cancellation, preferLocal: false);
        return cancellation;
    }

    /// <summary>
    /// Every task has ended: lets go of them all. A task that ends on its own (a pending one sees the close when it runs)
    /// may end before a worker reaches it, and a worker may still be queued behind such tasks when the drain completes.
    /// </summary>
    public void Stop()
    {
        Volatile.Write(ref _tasks, null);
        _watchdog.Dispose();
    }

    /// <summary>One worker: takes the next task and cancels it inline, until none is left.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            List<SupervisedTask>? tasks = Volatile.Read(ref _tasks);
            int index = Interlocked.Increment(ref _claimed);
            if (tasks is null || index >= tasks.Count)
            {
                _watchdog.Dispose();
                return;
            }

            // The slot is let go as it is claimed. A worker can outlive the drain (stuck in one task's slow callback, or
            // added by the watchdog and still queued when the last task ends), and it must keep no other task alive.
            SupervisedTask task = tasks[index];
            tasks[index] = null!;
            task.CancelInline();
        }
    }

    private void Check()
    {
        // A timer callback on the thread pool: nothing may escape it.
        try
        {
            int claimed = Volatile.Read(ref _claimed);
            if (Volatile.Read(ref _tasks) is not { } tasks || claimed >= tasks.Count - 1)
            {
                _watchdog.Dispose();
            }
            else if (claimed == _claimedAtLastCheck)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }

            _claimedAtLastCheck = claimed;
        }
        catch (Exception)
        {
            // Queueing a work item and disposing a timer do not throw in practice; the drain's deadline bounds it anyway.
        }
    }
}
