using Microsoft.Extensions.Logging;

namespace TaskSupervision.Internal;

/// <summary>
/// Every log message of the library. Event ids are stable: they are part of the contract with users' alert rules,
/// so an id is never reused or renumbered, only added.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "TaskFaulted", Level = LogLevel.Error,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} faulted after {ElapsedMs:0.#} ms")]
    public static partial void TaskFaulted(ILogger logger, Exception exception, long taskId, string? taskKey, string? taskName, string supervisor, double elapsedMs);

    [LoggerMessage(EventId = 2, EventName = "TaskCanceled", Level = LogLevel.Debug,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} was canceled after {ElapsedMs:0.#} ms")]
    public static partial void TaskCanceled(ILogger logger, long taskId, string? taskKey, string? taskName, string supervisor, double elapsedMs);

    [LoggerMessage(EventId = 3, EventName = "TaskCompleted", Level = LogLevel.Trace,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} completed after {ElapsedMs:0.#} ms")]
    public static partial void TaskCompleted(ILogger logger, long taskId, string? taskKey, string? taskName, string supervisor, double elapsedMs);

    [LoggerMessage(EventId = 4, EventName = "CallbackFailed", Level = LogLevel.Error,
        Message = "A task-ended callback threw for supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor}; the other callbacks still ran")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, long taskId, string? taskKey, string? taskName, string supervisor);

    [LoggerMessage(EventId = 5, EventName = "DrainStarted", Level = LogLevel.Information,
        Message = "Supervisor {Supervisor} is draining {TaskCount} task(s) with a timeout of {TimeoutMs:0.#} ms")]
    public static partial void DrainStarted(ILogger logger, string supervisor, int taskCount, double timeoutMs);

    [LoggerMessage(EventId = 6, EventName = "DrainCompleted", Level = LogLevel.Information,
        Message = "Supervisor {Supervisor} drained {TaskCount} task(s) in {ElapsedMs:0.#} ms: {CompletedCount} completed, {CanceledCount} canceled, {FaultedCount} faulted, {TimedOutCount} timed out, {StragglerCount} straggler(s)")]
    public static partial void DrainCompleted(ILogger logger, string supervisor, int taskCount, double elapsedMs, int completedCount, int canceledCount, int faultedCount, int timedOutCount, int stragglerCount);

    [LoggerMessage(EventId = 7, EventName = "DrainStraggler", Level = LogLevel.Warning,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} was still running {AgeMs:0.#} ms after it started when the drain timed out")]
    public static partial void DrainStraggler(ILogger logger, long taskId, string? taskKey, string? taskName, string supervisor, double ageMs);

    [LoggerMessage(EventId = 8, EventName = "CancellationCallbackFailed", Level = LogLevel.Warning,
        Message = "A callback registered on the cancellation token of supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} threw")]
    public static partial void CancellationCallbackFailed(ILogger logger, Exception exception, long taskId, string? taskKey, string? taskName, string supervisor);

    [LoggerMessage(EventId = 9, EventName = "TaskTimedOut", Level = LogLevel.Error,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} timed out after {ElapsedMs:0.#} ms")]
    public static partial void TaskTimedOut(ILogger logger, Exception exception, long taskId, string? taskKey, string? taskName, string supervisor, double elapsedMs);

    [LoggerMessage(EventId = 10, EventName = "TaskRestarting", Level = LogLevel.Warning,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} ended and restarts in {DelayMs:0.#} ms (restart {RestartCount})")]
    public static partial void TaskRestarting(ILogger logger, Exception? exception, long taskId, string? taskKey, string? taskName, string supervisor, double delayMs, int restartCount);

    [LoggerMessage(EventId = 11, EventName = "TaskGaveUp", Level = LogLevel.Error,
        Message = "Supervisor {Supervisor} gave up on task {TaskId} (key {TaskKey}, name {TaskName}) after {RestartCount} restart(s) within its restart window")]
    public static partial void TaskGaveUp(ILogger logger, Exception exception, long taskId, string? taskKey, string? taskName, string supervisor, int restartCount);

    [LoggerMessage(EventId = 12, EventName = "TaskOverran", Level = LogLevel.Warning,
        Message = "Supervised task {TaskId} (key {TaskKey}, name {TaskName}) in supervisor {Supervisor} ignored its token and ran {OverByMs:0.#} ms past its timeout of {TimeoutMs:0.#} ms before it completed")]
    public static partial void TaskOverran(ILogger logger, long taskId, string? taskKey, string? taskName, string supervisor, double timeoutMs, double overByMs);
}
