using Microsoft.Extensions.Logging;

namespace TaskSupervision.Hangfire.Internal;

/// <summary>Every log message of this package. Event ids are stable (alert rules use them): never reused, only added.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "DurableWorkHandedOff", Level = LogLevel.Warning,
        Message = "Durable work {TaskKey} (job {JobId}) was handed off to Hangfire after {Deliveries} delivery(ies) in process: {Reason}")]
    public static partial void HandedOff(ILogger logger, string taskKey, string jobId, int deliveries, string reason);

    [LoggerMessage(EventId = 2, EventName = "DurableWorkHandOffFailed", Level = LogLevel.Error,
        Message = "Durable work {TaskKey} (job {JobId}) could not be handed off to Hangfire, in any of its attempts; it runs when its lease runs out")]
    public static partial void HandOffFailed(ILogger logger, Exception exception, string taskKey, string jobId);

    [LoggerMessage(EventId = 3, EventName = "DurableWorkCompletionNotRecorded", Level = LogLevel.Error,
        Message = "Durable work {TaskKey} (job {JobId}) completed in process, but its stored job could not be deleted, in any of its attempts; a Hangfire server will run it again when its lease runs out")]
    public static partial void CompletionNotRecorded(ILogger logger, Exception exception, string taskKey, string jobId);

    [LoggerMessage(EventId = 4, EventName = "DurableWorkLeaseRenewalFailed", Level = LogLevel.Warning,
        Message = "The leases of {Count} durable work item(s) could not be renewed; the renewal is tried again in {IntervalMs:0.#} ms")]
    public static partial void LeaseRenewalFailed(ILogger logger, Exception exception, int count, double intervalMs);

    [LoggerMessage(EventId = 5, EventName = "DurableWorkLeaseLost", Level = LogLevel.Warning,
        Message = "The lease of durable work {TaskKey} (job {JobId}) ran out while it was still running or waiting to run in process; a Hangfire server may run it too")]
    public static partial void LeaseLost(ILogger logger, string taskKey, string jobId);

    [LoggerMessage(EventId = 6, EventName = "DurableWorkAlreadyTaken", Level = LogLevel.Information,
        Message = "Durable work {TaskKey} (job {JobId}) completed in process after its stored job had left the schedule (state {State}); it was not deleted")]
    public static partial void AlreadyTaken(ILogger logger, string taskKey, string jobId, string? state);

    [LoggerMessage(EventId = 7, EventName = "DurableWorkSettlementRetrying", Level = LogLevel.Warning,
        Message = "The {Settlement} of durable work {TaskKey} (job {JobId}) failed in the storage (attempt {Attempt} of {Attempts}); it is tried again in {DelayMs:0.#} ms")]
    public static partial void SettlementRetrying(ILogger logger, Exception exception, SettlementKind settlement, string taskKey, string jobId, int attempt, int attempts, double delayMs);

    [LoggerMessage(EventId = 8, EventName = "DurableWorkSettlementsUnfinished", Level = LogLevel.Error,
        Message = "{Count} hand-off(s) or delete(s) of durable work were not finished {TimeoutMs:0.#} ms after disposal began; their jobs run when their leases run out")]
    public static partial void SettlementsUnfinished(ILogger logger, int count, double timeoutMs);
}
