using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>Settings of a <see cref="TaskSupervisor"/>. They are read once, when the supervisor is created.</summary>
public sealed class TaskSupervisorOptions
{

    /// <summary>
    /// The longest finite timeout or delay anything in the library accepts: <see cref="uint.MaxValue"/> - 1 milliseconds
    /// (about 49.7 days), the limit of .NET's timers and of <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>.
    /// </summary>
    /// <remarks>
    /// The one rule for every timeout and delay of the API: zero, a positive span up to this limit, or
    /// <see cref="Timeout.InfiniteTimeSpan"/> where waiting forever is meaningful. A method argument outside it throws
    /// <see cref="ArgumentOutOfRangeException"/> at the call; an options value outside it is reported by options
    /// validation (at host start, or by the <see cref="TaskSupervisor"/> constructor), so that no accepted value can fail
    /// later on a thread-pool thread. Public so that code which computes a timeout can clamp to it.
    /// </remarks>
    public static TimeSpan MaxTimeout => Guard.MaxTimeout;

    /// <summary>The supervisor's name, used in logs and snapshots.</summary>
    /// <value>Defaults to the name it was registered with, or <c>"default"</c>.</value>
    public string? Name { get; set; }

    /// <summary>How long disposal waits for tasks to end before it reports the rest as stragglers and returns.</summary>
    /// <value>Defaults to 30 seconds, like <c>HostOptions.ShutdownTimeout</c>. <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</value>
    /// <remarks>Must follow the timeout rule of <see cref="MaxTimeout"/>; checked by options validation, not by the setter.</remarks>
    public TimeSpan ShutdownTimeout { get; set; } = TaskSupervisorConstants.DefaultShutdownTimeout;

    /// <summary>
    /// How long a drain lets tasks finish on their own before it signals their cancellation tokens. It counts within the
    /// drain's timeout, never in addition to it.
    /// </summary>
    /// <value>Defaults to <see cref="TimeSpan.Zero"/>: cancellation is signalled as soon as the drain begins.</value>
    /// <remarks>Must follow the timeout rule of <see cref="MaxTimeout"/>; checked by options validation, not by the setter.</remarks>
    public TimeSpan DrainGracePeriod { get; set; } = TaskSupervisorConstants.DefaultDrainGracePeriod;

    /// <summary>The clock used for start times, elapsed times and every timeout.</summary>
    /// <value>Defaults to the <see cref="System.TimeProvider"/> registered in DI, else <see cref="TimeProvider.System"/>.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// Called once for every task that ends, after the task's own <see cref="TaskOptions.OnEnded"/>: the place to count,
    /// alert or dead-letter failures. Several handlers may be combined with <c>+=</c>; each runs even if another throws.
    /// </summary>
    /// <remarks>
    /// Runs synchronously on the thread that ended the task, before the task's <see cref="SupervisedTask.Task"/> completes,
    /// and never under a lock. An exception it throws is logged (event <c>CallbackFailed</c>) and contained.
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Action<TaskEndedArguments>? OnTaskEnded { get; set; }

    /// <summary>
    /// The most tasks that run at once. Tasks started beyond it wait, in order, as <see cref="SupervisedTaskStatus.Pending"/>.
    /// Below the limit a start takes no lock.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no limit. Must be positive (checked by options validation).</value>
    public int? MaxConcurrency { get; set; }

    /// <summary>
    /// The most tasks that may wait for a run slot when <see cref="MaxConcurrency"/> is reached. A start beyond it throws
    /// <see cref="SupervisorQueueFullException"/>; <c>TryRun</c> returns <see langword="false"/>; <c>RunAsync</c> waits for room.
    /// Requires <see cref="MaxConcurrency"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the queue is unbounded and grows with every start beyond the limit. Must not be negative (checked by options validation).</value>
    public int? MaxPending { get; set; }

    /// <summary>The restart policy of tasks started without <see cref="TaskOptions.Restart"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: never restart. Bound from configuration as a section of its own; its rules are checked by options validation.</value>
    public RestartPolicy? DefaultRestartPolicy { get; set; }

    /// <summary>Every problem with these options, empty when they are valid.</summary>
    /// <param name="path">The configuration path the options were bound from, to name each setting by; <see langword="null"/> for property names.</param>
    internal IReadOnlyList<string> GetProblems(string? path = null)
    {
        var problems = new OptionsProblems(path);
        problems.Timeout(nameof(ShutdownTimeout), ShutdownTimeout);
        problems.Timeout(nameof(DrainGracePeriod), DrainGracePeriod);
        if (MaxConcurrency is <= 0)
        {
            problems.Add(nameof(MaxConcurrency), MaxConcurrency, "must be positive; leave it unset (null) for no limit.");
        }

        if (MaxPending is < 0)
        {
            problems.Add(nameof(MaxPending), MaxPending, "must not be negative; leave it unset (null) for an unbounded queue.");
        }
        else if (MaxPending is not null && MaxConcurrency is null)
        {
            problems.Add(nameof(MaxPending), MaxPending, $"bounds the queue of tasks waiting for {problems.Name(nameof(MaxConcurrency))}; set that too.");
        }

        foreach (string problem in DefaultRestartPolicy?.GetProblems(problems.Name(nameof(DefaultRestartPolicy))) ?? [])
        {
            problems.AddRaw(problem);
        }

        return problems.Problems;
    }
}
