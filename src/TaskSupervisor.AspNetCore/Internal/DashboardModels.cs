using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSupervision.AspNetCore.Internal;

// The JSON shapes of the dashboard's API. Property names are camelCase and statuses are written as names
// ("Running", not 1); the README's "JSON API" table documents each one.

/// <summary>One supervisor's summary (<c>GET api/supervisors</c>, and every live update).</summary>
internal sealed record SupervisorSummary(
    string Name,
    int Tracked,
    int Running,
    int Pending,
    int? MaxConcurrency,
    int? MaxPending,
    bool Draining,
    bool Closed,
    RecentOutcomes Recent,
    DrainSummary? LastDrain);

/// <summary>How tasks ended within the recent window.</summary>
internal sealed record RecentOutcomes(double WindowSeconds, long Completed, long Canceled, long Faulted, long TimedOut, long GaveUp);

/// <summary>The supervisor's last drain: how its tasks ended, and the stragglers still running at its deadline.</summary>
internal sealed record DrainSummary(int TasksAtStart, int Completed, int Canceled, int Faulted, int TimedOut, int Stragglers, double ElapsedMs, bool Complete);

/// <summary>One row of the task table.</summary>
internal sealed record TaskRow(
    long Id,
    string? Key,
    string? Name,
    SupervisedTaskStatus Status,
    DateTimeOffset StartedAt,
    double AgeMs,
    int RestartCount,
    ErrorSummary? LastError);

/// <summary>An exception as the dashboard shows it: type and message, never the stack trace.</summary>
internal sealed record ErrorSummary(string Type, string Message);

/// <summary>A page of tasks (<c>GET api/tasks</c>).</summary>
internal sealed record TaskTablePage(string Supervisor, int Total, int Skip, int Take, IReadOnlyList<TaskRow> Items);

/// <summary>One recent failure (<c>GET api/failures</c>).</summary>
internal sealed record FailureRow(
    string Supervisor,
    DateTimeOffset EndedAt,
    long Id,
    string? Key,
    string? Name,
    SupervisedTaskStatus Status,
    bool GaveUp,
    int RestartCount,
    double ElapsedMs,
    string ExceptionType,
    string Message,
    string? StackTrace);

/// <summary>One live update (<c>GET api/events</c>, event <c>update</c>).</summary>
internal sealed record DashboardUpdate(
    DateTimeOffset At,
    IReadOnlyList<SupervisorSummary> Supervisors,
    TaskTablePage? Tasks,
    IReadOnlyList<FailureRow>? Failures);

/// <summary>What the page may do for this user (<c>GET api/session</c>).</summary>
internal sealed record SessionInfo(
    bool CanCancel,
    string? AntiforgeryHeader,
    string? AntiforgeryToken,
    double UpdateIntervalMs,
    bool StackTraces);

/// <summary>The body of <c>POST api/cancel</c>.</summary>
internal sealed record CancelTaskRequest(string? Supervisor, string? Key);

/// <summary>The body of <c>POST api/cancel-prefix</c>.</summary>
internal sealed record CancelPrefixRequest(string? Supervisor, string? KeyPrefix);

/// <summary>The answer of <c>POST api/cancel</c>.</summary>
internal sealed record CancelTaskResponse(string Supervisor, string Key, CancelResult Result);

/// <summary>
/// The answer of <c>POST api/cancel-prefix</c>: how many tasks matched, and how they ended within the timeout
/// (<c>stillRunning</c> counts those that had not).
/// </summary>
internal sealed record CancelPrefixResponse(string Supervisor, string KeyPrefix, int Matched, int RanToCompletion, int Canceled, int Faulted, int StillRunning);

/// <summary>A client error, as <c>application/json</c>.</summary>
internal sealed record ErrorResponse(string Error);

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SupervisorSummary[]))]
[JsonSerializable(typeof(TaskTablePage))]
[JsonSerializable(typeof(FailureRow[]))]
[JsonSerializable(typeof(DashboardUpdate))]
[JsonSerializable(typeof(SessionInfo))]
[JsonSerializable(typeof(CancelTaskRequest))]
[JsonSerializable(typeof(CancelPrefixRequest))]
[JsonSerializable(typeof(CancelTaskResponse))]
[JsonSerializable(typeof(CancelPrefixResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
