using Microsoft.Extensions.Logging;

namespace TaskSupervision.Internal;

/// <summary>
/// The drain of one supervisor, run once: close, let tasks finish within the grace period, cancel the rest, wait until
/// the deadline, and report every task's outcome and every straggler.
/// </summary>
internal sealed class SupervisorDrain(TaskSupervisor supervisor, TaskRegistry registry, TaskReporter reporter, ILogger logger, TimeSpan gracePeriod)
{
    /// <summary>
    /// The grace period within a deadline: never longer than the deadline, and an infinite grace is the whole deadline,
    /// so that an infinite grace never makes a finite deadline wait forever.
    /// </summary>
    public static TimeSpan GraceWithin(TimeSpan grace, TimeSpan deadline)
    {
        if (grace == Timeout.InfiniteTimeSpan)
        {
            return deadline;
        }

        return deadline == Timeout.InfiniteTimeSpan || grace < deadline ? grace : deadline;
    }

    public async Task<DrainReport> RunAsync(TimeSpan deadline)
    {
        TimeProvider time = supervisor.TimeProvider;
        long started = time.GetTimestamp();
        Task idle = supervisor.Close(new DrainTally(), out int countAtClose);
        Log.DrainStarted(logger, supervisor.Name, countAtClose, deadline.TotalMilliseconds);

        // 1. Grace: let tasks finish on their own, within the deadline.
        TimeSpan grace = GraceWithin(gracePeriod, deadline);
        if (grace != TimeSpan.Zero && !idle.IsCompleted)
        {
            await supervisor.WaitAsync(idle, grace, CancellationToken.None).ConfigureAwait(false);
        }

        // 2. Signal cancellation to every task still tracked; pending ones will never run.
        if (!idle.IsCompleted)
        {
            // In the order MarkForDrain gives (pending tasks first), among the tasks left after the grace: every one of them
            // was counted at the close. Each task is cancelled inline by a pool worker; one slow callback (or synchronous
            // code after an await on the token) holds up its own task, never the others, nor this drain's deadline. A task
            // that ended meanwhile is skipped there. Only the cancellation holds the list, so that Stop lets go of it.
            DrainCancellation? cancellation = DrainCancellation.Start(registry.MarkForDrain());

            // 3. Wait for them, up to what is left of the deadline. Once all have ended, the cancellation lets go of them
            // (a straggler is still cancelled by it after the deadline).
            TimeSpan remaining = deadline == Timeout.InfiniteTimeSpan
                ? deadline
                : TimeSpan.FromTicks(Math.Max(0, (deadline - time.GetElapsedTime(started)).Ticks));
            if (await supervisor.WaitAsync(idle, remaining, CancellationToken.None).ConfigureAwait(false))
            {
                cancellation?.Stop();
            }
        }

        // 4. Report: every counted task has an outcome or is a straggler, in one cut. A straggler cannot be stopped, only named.
        (DrainTally.Counts counts, List<SupervisedTask> left) = registry.CloseDrain();
        long now = time.GetTimestamp();
        var stragglers = new SupervisedTaskInfo[left.Count];
        for (int i = 0; i < stragglers.Length; i++)
        {
            stragglers[i] = left[i].ToInfo(now);
            reporter.Straggler(stragglers[i]);
        }

        TimeSpan elapsed = time.GetElapsedTime(started);
        var report = new DrainReport(counts.Completed, counts.Canceled, counts.Faulted, counts.TimedOut, stragglers, elapsed);
        supervisor.Metrics.RecordDrain(supervisor.Name, elapsed, stragglers.Length);
        Log.DrainCompleted(logger, supervisor.Name, report.TasksAtStart, elapsed.TotalMilliseconds, report.Completed, report.Canceled, report.Faulted, report.TimedOut, stragglers.Length);
        return report;
    }
}
