using Microsoft.Extensions.Logging;

namespace TaskSupervision.HealthChecks.Internal;

/// <summary>
/// Every log message of TaskSupervisor.HealthChecks. Event ids start at 200 and are stable: an id is never reused or
/// renumbered, only added.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 200, EventName = "SupervisorNotRegistered", Level = LogLevel.Warning,
        Message = "Health check {HealthCheck} found no supervisor {Supervisor} in the container; register it with AddTaskSupervisor")]
    public static partial void SupervisorNotRegistered(ILogger logger, string healthCheck, string supervisor);
}
