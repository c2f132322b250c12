using TaskSupervision.HealthChecks.Internal;

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
    private TimeSpan _window = HealthCheckConstants.DefaultWindow;
    private double? _unhealthyFaultedShare = HealthCheckConstants.DefaultUnhealthyFaultedShare;
    private int _minimumEnded = HealthCheckConstants.DefaultMinimumEnded;
    private int? _unhealthyFaultedCount;
    private TimeSpan? _maxTaskAge;
    private double? _degradedPendingShare = HealthCheckConstants.DefaultDegradedPendingShare;

    /// <summary>
    /// The sliding window over which ended, faulted and given-up tasks are counted. It is kept in 60 fixed buckets, so an
    /// event leaves the window between <c>Window * 59/60</c> and <c>Window</c> after it happened, and memory does not grow
    /// with the number of tasks.
    /// </summary>
    /// <value>Defaults to 5 minutes.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative or infinite.</exception>
    public TimeSpan Window
    {
        get => _window;
        set => _window = value > TimeSpan.Zero && value != Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Window), value, "The window must be positive and finite.");
    }

    /// <summary>The share of ended tasks that, faulted within the window, makes the check unhealthy; from 0 (exclusive) to 1.</summary>
    /// <value>Defaults to 0.5. <see langword="null"/> turns the share test off.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not greater than 0 and at most 1.</exception>
    public double? UnhealthyFaultedShare
    {
        get => _unhealthyFaultedShare;
        set => _unhealthyFaultedShare = value is null or (> 0 and <= 1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(UnhealthyFaultedShare), value, "The share must be greater than 0 and at most 1; use null for none.");
    }

    /// <summary>How many tasks must have ended within the window before <see cref="UnhealthyFaultedShare"/> is applied, so that one fault out of one task does not count as 100 %.</summary>
    /// <value>Defaults to 10.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MinimumEnded
    {
        get => _minimumEnded;
        set => _minimumEnded = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MinimumEnded), value, "The minimum must be at least 1.");
    }

    /// <summary>The number of faulted tasks within the window that makes the check unhealthy, whatever their share.</summary>
    /// <value>Defaults to <see langword="null"/>: no count test.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? UnhealthyFaultedCount
    {
        get => _unhealthyFaultedCount;
        set => _unhealthyFaultedCount = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(UnhealthyFaultedCount), value, "The count must be at least 1; use null for none.");
    }

    /// <summary>Whether a task given up on within the window (it exceeded its restart intensity) makes the check unhealthy.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool UnhealthyOnGaveUp { get; set; } = HealthCheckConstants.DefaultUnhealthyOnGaveUp;

    /// <summary>
    /// How long a task may be tracked (pending or running, since the supervisor accepted it) before the check reports it as
    /// overdue and is degraded. Set it to the longest a task of this supervisor is expected to run.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: ages are not checked.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan? MaxTaskAge
    {
        get => _maxTaskAge;
        set => _maxTaskAge = value is null || value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxTaskAge), value, "The age must be positive; use null for none.");
    }

    /// <summary>
    /// The share of <see cref="TaskSupervisorOptions.MaxPending"/> that, reached by the pending queue, makes the check
    /// degraded; from 0 (exclusive) to 1. Ignored when the supervisor's queue is unbounded.
    /// </summary>
    /// <value>Defaults to 0.8. <see langword="null"/> turns the queue test off.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not greater than 0 and at most 1.</exception>
    public double? DegradedPendingShare
    {
        get => _degradedPendingShare;
        set => _degradedPendingShare = value is null or (> 0 and <= 1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DegradedPendingShare), value, "The share must be greater than 0 and at most 1; use null for none.");
    }
}
