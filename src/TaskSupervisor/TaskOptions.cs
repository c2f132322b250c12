using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>
/// Per-task settings. Immutable once built, so one instance can be cached in a <see langword="static"/> field and shared
/// by every start (which then allocates nothing for options).
/// </summary>
public sealed class TaskOptions
{
    /// <summary>A low-cardinality label for the task, such as <c>"send-email"</c>, shown in logs and snapshots.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Name { get; init; }

    /// <summary>What a keyed <c>Run</c> or <c>RunAsync</c> does when a task with the same key is still tracked.</summary>
    /// <value>Defaults to <see cref="KeyConflictBehavior.Reject"/>.</value>
    /// <remarks>
    /// Any other value is rejected, with <see cref="ArgumentException"/> at the call, by an unkeyed start (there is no key
    /// to conflict) and by <c>TryRun</c> (which decides a conflict itself: it returns <see langword="false"/> and the
    /// holder). Decided so rather than ignored: a shared <see cref="TaskOptions"/> that asks to replace, used where nothing
    /// can be replaced, is a mistake the caller wants to hear about at the call, not a setting that silently does nothing.
    /// </remarks>
    public KeyConflictBehavior IfKeyRunning { get; init; } = KeyConflictBehavior.Reject;

    /// <summary>
    /// Called once when this task ends, before the supervisor-wide <see cref="TaskSupervisorOptions.OnTaskEnded"/>.
    /// An exception it throws is logged and contained.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Action<TaskEndedArguments>? OnEnded { get; init; }

    /// <summary>
    /// How long one attempt of the work may run before its token is cancelled. A task that ends because of it ends as
    /// <see cref="SupervisedTaskStatus.TimedOut"/>, is logged as such (event <c>TaskTimedOut</c>), and counts as a failure for
    /// <see cref="RestartMode.OnFailure"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no timeout.</value>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The value is zero, negative (other than <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>, which, like
    /// <see langword="null"/>, means none), or longer than <see cref="TaskSupervisorOptions.MaxTimeout"/>.
    /// </exception>
    /// <remarks>
    /// Checked where it is set (task options are built in code, per call, and never bound from configuration), so that no
    /// accepted value can fail later, on a thread-pool thread, when the attempt's timer is created.
    /// </remarks>
    public TimeSpan? Timeout
    {
        get => _timeout;
        init => _timeout = value is null || (value > TimeSpan.Zero && Guard.IsValidTimeout(value.Value)) || value == System.Threading.Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Timeout), value, $"TaskOptions.Timeout must be positive up to {Guard.MaxTimeout} (the limit of .NET timers), Timeout.InfiniteTimeSpan or null.");
    }

    /// <summary>Restarts the task when it ends; see <see cref="RestartPolicy"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: the supervisor's <see cref="TaskSupervisorOptions.DefaultRestartPolicy"/>, which by default never restarts.</value>
    /// <exception cref="ArgumentOutOfRangeException">The policy breaks one of its rules (see <see cref="RestartPolicy"/>); the message lists every problem.</exception>
    public RestartPolicy? Restart
    {
        get => _restart;
        init => _restart = value?.Validated(nameof(Restart));
    }

    /// <summary>
    /// Marks work the application cannot run without. The core only reports the flag
    /// (<see cref="SupervisedTask.IsCritical"/>); the host integration in <c>TaskSupervisor.Hosting</c> can stop the host
    /// with a non-zero exit code when a critical task faults, times out or is given up on.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool IsCritical { get; init; }

    private readonly TimeSpan? _timeout;
    private readonly RestartPolicy? _restart;
}
