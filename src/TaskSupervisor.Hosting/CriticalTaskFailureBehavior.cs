using System.Text.Json.Serialization;

namespace TaskSupervision.Hosting;

/// <summary>
/// What the host does when a task marked critical (<see cref="TaskOptions.IsCritical"/>) fails: it faults, times out, or
/// is given up on after its restarts. A canceled task has not failed.
/// </summary>
/// <remarks>
/// Serialised by System.Text.Json as its member name, never as a number, whatever the serializer options: a
/// number in a JSON response is meaningless to its reader and breaks when a member is added. Names also bind from
/// configuration.
/// </remarks>
[JsonConverter(typeof(JsonStringEnumConverter<CriticalTaskFailureBehavior>))]
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
