using Microsoft.Extensions.Logging;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>
/// Every log message of TaskSupervisor.AspNetCore. Event ids start at 300 and are stable: an id is never reused or
/// renumbered, only added. Cancel actions are logged with the user who asked, as an audit trail.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 300, EventName = "DashboardCancel", Level = LogLevel.Information,
        Message = "Dashboard user {User} cancelled task {TaskKey} of supervisor {Supervisor}: {Result}")]
    public static partial void DashboardCancel(ILogger logger, string user, string taskKey, string supervisor, CancelResult result);

    [LoggerMessage(EventId = 301, EventName = "DashboardCancelPrefix", Level = LogLevel.Information,
        Message = "Dashboard user {User} cancelled the {Matched} task(s) under key prefix {KeyPrefix} of supervisor {Supervisor}")]
    public static partial void DashboardCancelPrefix(ILogger logger, string user, string keyPrefix, string supervisor, int matched);

    [LoggerMessage(EventId = 302, EventName = "DashboardAntiforgeryRejected", Level = LogLevel.Warning,
        Message = "Dashboard cancel request from user {User} rejected: antiforgery token missing or invalid")]
    public static partial void DashboardAntiforgeryRejected(ILogger logger, string user);
}
