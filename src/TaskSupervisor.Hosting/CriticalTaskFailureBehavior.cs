namespace TaskSupervision.Hosting;

/// <summary>
/// What the host does when a task marked critical (<see cref="TaskOptions.IsCritical"/>) fails: it faults, times out, or
/// is given up on after its restarts. A canceled task has not failed.
/// </summary>
public enum CriticalTaskFailureBehavior
{
    /// <summary>The failure is logged by the supervisor, as every failure is, and the host keeps running.</summary>
    LogOnly = 0,

    /// <summary>
    /// The failure is logged (event <c>CriticalTaskFailed</c>, id 105), <see cref="Environment.ExitCode"/> is set to
    /// <see cref="TaskSupervisorHostingOptions.CriticalFailureExitCode"/>, and the host is stopped with
    /// <c>IHostApplicationLifetime.StopApplication()</c>, as <c>BackgroundServiceExceptionBehavior.StopHost</c> does for a
    /// hosted service that throws. Every supervisor is then drained as at any shutdown.
    /// </summary>
    StopHost = 1,
}
