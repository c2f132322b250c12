using Microsoft.Extensions.Logging;

namespace TaskSupervision.Hosting.Internal;

/// <summary>
/// Every log message of TaskSupervisor.Hosting. Event ids start at 100 and are stable: an id is never reused or
/// renumbered, only added.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, EventName = "HostDrainStarted", Level = LogLevel.Information,
        Message = "The host is stopping: draining {SupervisorCount} supervisor(s) in parallel within the host's deadline of {TimeoutMs} ms")]
    public static partial void HostDrainStarted(ILogger logger, int supervisorCount, double timeoutMs);

    // 101 (SupervisorDrained) and 102 (SupervisorDrainIncomplete) are retired: the supervisor logs its own drain once
    // (DrainCompleted, DrainStraggler). Their ids are never reused.
    [LoggerMessage(EventId = 103, EventName = "HostDrainAbandoned", Level = LogLevel.Warning,
        Message = "The host's shutdown token fired before supervisor {Supervisor} finished draining; the host stops waiting for it")]
    public static partial void HostDrainAbandoned(ILogger logger, string supervisor);

    [LoggerMessage(EventId = 104, EventName = "HostDrainFailed", Level = LogLevel.Error,
        Message = "Draining supervisor {Supervisor} failed")]
    public static partial void HostDrainFailed(ILogger logger, Exception exception, string supervisor);

    [LoggerMessage(EventId = 105, EventName = "CriticalTaskFailed", Level = LogLevel.Critical,
        Message = "Critical task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} ended {Status}; stopping the host with exit code {ExitCode}")]
    public static partial void CriticalTaskFailed(ILogger logger, Exception? exception, long taskId, string? taskKey, string? taskName, string supervisor, SupervisedTaskStatus status, int exitCode);

    [LoggerMessage(EventId = 106, EventName = "SupervisorDrainDeadline", Level = LogLevel.Information,
        Message = "Supervisor {Supervisor} drains within {DeadlineMs} ms: the smaller of its ShutdownTimeout ({ShutdownTimeoutMs} ms) and the host's deadline ({HostTimeoutMs} ms)")]
    public static partial void SupervisorDrainDeadline(ILogger logger, string supervisor, double deadlineMs, double? shutdownTimeoutMs, double hostTimeoutMs);
}
