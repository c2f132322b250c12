using TaskSupervision.HealthChecks.Internal;
using TaskSupervision.Internal;

namespace TaskSupervision.HealthChecks;

/// <summary>
/// Thresholds of the TaskSupervisor health check, registered with
/// <c>services.AddHealthChecks().AddTaskSupervisor(...)</c>. Each check has its own options, named after the check.
/// </summary>
/// <remarks>
/// <para>The check is <b>unhealthy</b> when, within the last <see cref="Window"/>, the faulted tasks reach
/// <see cref="UnhealthyFaultedCount"/>, or reach <see cref="UnhealthyFaultedShare"/> of the ended tasks (once at least
/// <see cref="MinimumEnded"/> have ended), or when a task was given up on (<see cref="TaskEndedArguments.GaveUp"/>) and
/// <see cref="UnhealthyOnGaveUp"/> is set. A task that timed out counts as faulted; a canceled task does not.</para>
/// <para>Otherwise it is <b>degraded</b> when a tracked task is older than <see cref="MaxTaskAge"/>, or when the pending
/// queue holds at least <see cref="DegradedPendingShare"/> of <see cref="TaskSupervisorOptions.MaxPending"/>.</para>
/// <para><see cref="Window"/> is read once, when the check's outcome tracker is created with the supervisor; the other
/// thresholds are read on every check.</para>
/// </remarks>
public sealed class TaskSupervisorHealthCheckOptions
{

    /// <summary>
    /// The sliding window over which ended, faulted and given-up tasks are counted. It is kept in 60 fixed buckets, so an
    /// event leaves the window between <c>Window * 59/60</c> and <c>Window</c> after it happened, and memory does not grow
    /// with the number of tasks.
    /// </summary>
    /// <value>Defaults to 5 minutes.</value>
    /// <remarks>Checked by options validation at host start (every problem at once, by configuration path when bound), not by the setter.</remarks>
    public TimeSpan Window { get; set; } = HealthCheckConstants.DefaultWindow;

    /// <summary>The share of ended tasks that, faulted within the window, makes the check unhealthy; from 0 (exclusive) to 1.</summary>
    /// <value>Defaults to 0.5. <see langword="null"/> turns the share test off.</value>
    /// <remarks>Checked by options validation at host start (every problem at once, by configuration path when bound), not by the setter.</remarks>
    public double? UnhealthyFaultedShare { get; set; } = HealthCheckConstants.DefaultUnhealthyFaultedShare;

    /// <summary>How many tasks must have ended within the window before <see cref="UnhealthyFaultedShare"/> is applied, so that one fault out of one task does not count as 100 %.</summary>
    /// <value>Defaults to 10.</value>
    /// <remarks>Checked by options validation at host start (every problem at once, by configuration path when bound), not by the setter.</remarks>
    public int MinimumEnded { get; set; } = HealthCheckConstants.DefaultMinimumEnded;

    /// <summary>The number of faulted tasks within the window that makes the check unhealthy, whatever their share.</summary>
    /// <value>Defaults to <see langword="null"/>: no count test.</value>
    /// <remarks>Checked by options validation at host start (every problem at once, by configuration path when bound), not by the setter.</remarks>
    public int? UnhealthyFaultedCount { get; set; }

    /// <summary>Whether a task given up on within the window (it exceeded its restart intensity) makes the check unhealthy.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool UnhealthyOnGaveUp { get; set; } = HealthCheckConstants.DefaultUnhealthyOnGaveUp;

    /// <summary>
    /// How long a task may be tracked (pending or running, since the supervisor accepted it) before the check reports it as
    /// overdue and is degraded. Set it to the longest a task of this supervisor is expected to run.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: ages are not checked.</value>
    /// <remarks>Checked by options validation at host start (every problem at once, by configuration path when bound), not by the setter.</remarks>
    public TimeSpan? MaxTaskAge { get; set; }

    /// <summary>
    /// The share of <see cref="TaskSupervisorOptions.MaxPending"/> that, reached by the pending queue, makes the check
    /// degraded; from 0 (exclusive) to 1. Ignored when the supervisor's queue is unbounded.
    /// </summary>
    /// <value>Defaults to 0.8. <see langword="null"/> turns the queue test off.</value>
    /// <remarks>Checked by options validation at host start (every problem at once, by configuration path when bound), not by the setter.</remarks>
    public double? DegradedPendingShare { get; set; } = HealthCheckConstants.DefaultDegradedPendingShare;

    /// <summary>Every problem with these options, each naming its setting under <paramref name="path"/>.</summary>
    internal IReadOnlyList<string> GetProblems(string? path = null)
    {
        var problems = new OptionsProblems(path);
        if (Window <= TimeSpan.Zero || Window > TaskSupervisorOptions.MaxTimeout)
        {
            problems.Add(nameof(Window), Window, $"must be positive and at most {TaskSupervisorOptions.MaxTimeout}.");
        }

        if (UnhealthyFaultedShare is not null and not (> 0 and <= 1))
        {
            problems.Add(nameof(UnhealthyFaultedShare), UnhealthyFaultedShare, "must be greater than 0 and at most 1; leave it unset (null) for no share test.");
        }

        if (MinimumEnded < 1)
        {
            problems.Add(nameof(MinimumEnded), MinimumEnded, "must be at least 1.");
        }

        if (UnhealthyFaultedCount is < 1)
        {
            problems.Add(nameof(UnhealthyFaultedCount), UnhealthyFaultedCount, "must be at least 1; leave it unset (null) for no count test.");
        }

        if (MaxTaskAge is TimeSpan age && age <= TimeSpan.Zero)
        {
            problems.Add(nameof(MaxTaskAge), age, "must be positive; leave it unset (null) not to check ages.");
        }

        if (DegradedPendingShare is not null and not (> 0 and <= 1))
        {
            problems.Add(nameof(DegradedPendingShare), DegradedPendingShare, "must be greater than 0 and at most 1; leave it unset (null) for no queue test.");
        }

        return problems.Problems;
    }
}
