using TaskSupervision.Hosting.Internal;
using TaskSupervision.Internal;

namespace TaskSupervision.Hosting;

/// <summary>Settings of the host integration registered with <c>services.AddTaskSupervisorHosting(...)</c>.</summary>
public sealed class TaskSupervisorHostingOptions
{
    /// <summary>
    /// How long the drain of every supervisor may take when the host stops (they are drained in parallel, so this bounds
    /// the whole drain). It includes each supervisor's <see cref="TaskSupervisorOptions.DrainGracePeriod"/>.
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: <c>HostOptions.ShutdownTimeout</c> (30 seconds unless configured) less a margin
    /// of 10 % of it, at most 2 seconds, left to the rest of shutdown. <see cref="Timeout.InfiniteTimeSpan"/> waits for
    /// every task, but the host still stops waiting at its own shutdown timeout.
    /// </value>
    /// <remarks>Follows the timeout rule of <see cref="TaskSupervisorOptions.MaxTimeout"/>; checked by options validation at host start, not by the setter.</remarks>
    public TimeSpan? DrainTimeout { get; set; }

    /// <summary>What a failure of a critical task (<see cref="TaskOptions.IsCritical"/>) does to the host.</summary>
    /// <value>Defaults to <see cref="CriticalTaskFailureBehavior.LogOnly"/>.</value>
    public CriticalTaskFailureBehavior CriticalTaskFailure { get; set; } = HostingConstants.DefaultCriticalTaskFailure;

    /// <summary>The process exit code set when a critical task's failure stops the host (<see cref="CriticalTaskFailureBehavior.StopHost"/>).</summary>
    /// <value>Defaults to 1.</value>
    /// <remarks>Must not be 0, which would report success; checked by options validation at host start, not by the setter.</remarks>
    public int CriticalFailureExitCode { get; set; } = HostingConstants.DefaultCriticalFailureExitCode;

    /// <summary>Every problem with these options, each naming its setting under <paramref name="path"/>.</summary>
    internal IReadOnlyList<string> GetProblems(string? path = null)
    {
        var problems = new OptionsProblems(path);
        if (DrainTimeout is TimeSpan drainTimeout)
        {
            problems.Timeout(nameof(DrainTimeout), drainTimeout);
        }

        if (CriticalFailureExitCode == 0)
        {
            problems.Add(nameof(CriticalFailureExitCode), CriticalFailureExitCode, "must not be 0, the exit code of success.");
        }

        if (!Enum.IsDefined(CriticalTaskFailure))
        {
            problems.Add(nameof(CriticalTaskFailure), CriticalTaskFailure, "must be LogOnly or StopHost.");
        }

        return problems.Problems;
    }
}
