using TaskSupervision.AspNetCore.Internal;

namespace TaskSupervision.AspNetCore;

/// <summary>
/// Settings of the TaskSupervisor dashboard (<c>AddTaskSupervisorDashboard</c>, <c>MapTaskSupervisorDashboard</c>).
/// The dashboard is read-only unless <see cref="EnableCancel"/> is set, and then cancels only for users who pass
/// <see cref="CancelPolicy"/> and send a valid antiforgery token.
/// </summary>
/// <remarks>Validated when the application starts: an invalid value stops the start with an <c>OptionsValidationException</c>.</remarks>
public sealed class TaskSupervisorDashboardOptions
{
    /// <summary>Whether the dashboard offers cancel actions (one task by key; every task under a key prefix).</summary>
    /// <value>Default <see langword="false"/>: the dashboard only reads, and no cancel endpoint is mapped.</value>
    /// <remarks>
    /// When set, <see cref="CancelPolicy"/> must name an authorization policy of the application; the cancel endpoints
    /// require it (on top of any policy applied to the whole dashboard) and an antiforgery token.
    /// </remarks>
    public bool EnableCancel { get; set; }

    /// <summary>The name of the application's authorization policy a user must pass to cancel tasks.</summary>
    /// <value>Default <see langword="null"/>; required when <see cref="EnableCancel"/> is set.</value>
    public string? CancelPolicy { get; set; }

    /// <summary>How long a cancel action waits for the cancelled task (or tasks) to end before answering <c>StillRunning</c>.</summary>
    /// <value>Default 5 seconds. Zero to <c>uint.MaxValue - 1</c> milliseconds; not infinite.</value>
    public TimeSpan CancelTimeout { get; set; } = DashboardConstants.DefaultCancelTimeout;

    /// <summary>Whether recent failures keep and show the exception's full text with its stack trace.</summary>
    /// <value>
    /// Default <see langword="false"/>: only the exception's type and message are kept and shown. Stack traces can reveal
    /// paths, types and data; turn this on only where every user who passes the dashboard's policy may see them.
    /// </value>
    public bool IncludeStackTraces { get; set; }

    /// <summary>How many of the most recent failed tasks (faulted, timed out, given up) each supervisor's ring keeps.</summary>
    /// <value>Default 50. From 1 to 10,000. Memory is constant: the oldest failure is dropped when the ring is full.</value>
    public int RecentFailureCapacity { get; set; } = DashboardConstants.DefaultRecentFailureCapacity;

    /// <summary>The recent window over which task outcomes (completed, canceled, faulted, timed out, given up) are counted.</summary>
    /// <value>Default 15 minutes. At least 1 second; counted in 60 buckets, so an outcome leaves it at most one bucket late.</value>
    public TimeSpan OutcomeWindow { get; set; } = DashboardConstants.DefaultOutcomeWindow;

    /// <summary>How often the live stream sends an update to each open page.</summary>
    /// <value>Default 1 second. From 50 milliseconds to 1 hour.</value>
    public TimeSpan UpdateInterval { get; set; } = DashboardConstants.DefaultUpdateInterval;

    /// <summary>The page size of the task table when a request names none.</summary>
    /// <value>Default 50. From 1 to <see cref="MaxPageSize"/>.</value>
    public int DefaultPageSize { get; set; } = DashboardConstants.DefaultPageSize;

    /// <summary>The largest page of tasks one request may ask for; larger requests are cut to it.</summary>
    /// <value>Default 500. From 1 to <see cref="TaskQuery.MaxTake"/> (1,000).</value>
    public int MaxPageSize { get; set; } = DashboardConstants.DefaultMaxPageSize;
}
