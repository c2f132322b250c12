using TaskSupervision.Hosting.Internal;

namespace TaskSupervision.Hosting;

/// <summary>Settings of the host integration registered with <c>services.AddTaskSupervisorHosting(...)</c>.</summary>
public sealed class TaskSupervisorHostingOptions
{
    private TimeSpan? _drainTimeout;
    private int _criticalFailureExitCode = HostingConstants.DefaultCriticalFailureExitCode;

    /// <summary>
    /// How long the drain of every supervisor may take when the host stops (they are drained in parallel, so this bounds
    /// the whole drain). It includes each supervisor's <see cref="TaskSupervisorOptions.DrainGracePeriod"/>.
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: <c>HostOptions.ShutdownTimeout</c> (30 seconds unless configured) less a margin
    /// of 10 % of it, at most 2 seconds, left to the rest of shutdown. <see cref="Timeout.InfiniteTimeSpan"/> waits for
    /// every task, but the host still stops waiting at its own shutdown timeout.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan? DrainTimeout
    {
        get => _drainTimeout;
        set => _drainTimeout = value is null || value >= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DrainTimeout), value, "The timeout must not be negative, except Timeout.InfiniteTimeSpan; use null for the host's.");
    }

    /// <summary>What a failure of a critical task (<see cref="TaskOptions.IsCritical"/>) does to the host.</summary>
    /// <value>Defaults to <see cref="CriticalTaskFailureBehavior.LogOnly"/>.</value>
    public CriticalTaskFailureBehavior CriticalTaskFailure { get; set; } = HostingConstants.DefaultCriticalTaskFailure;

    /// <summary>The process exit code set when a critical task's failure stops the host (<see cref="CriticalTaskFailureBehavior.StopHost"/>).</summary>
    /// <value>Defaults to 1.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is 0, which would report success.</exception>
    public int CriticalFailureExitCode
    {
        get => _criticalFailureExitCode;
        set => _criticalFailureExitCode = value != 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(CriticalFailureExitCode), value, "The exit code of a failure must not be 0.");
    }
}
