namespace TaskSupervision;

/// <summary>
/// Per-task settings. Immutable once built, so one instance can be cached in a <see langword="static"/> field and shared
/// by every start (which then allocates nothing for options).
/// </summary>
public sealed class TaskOptions
{
    /// <summary>A low-cardinality label for the task, such as <c>"send-email"</c>, shown in logs and snapshots.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Name { get; init; }

    /// <summary>What a keyed start does when a task with the same key is still tracked. Ignored by unkeyed starts and by <c>TryRun</c>.</summary>
    /// <value>Defaults to <see cref="KeyConflictBehavior.Reject"/>.</value>
    public KeyConflictBehavior IfKeyRunning { get; init; } = KeyConflictBehavior.Reject;

    /// <summary>
    /// Called once when this task ends, before the supervisor-wide <see cref="TaskSupervisorOptions.OnTaskEnded"/>.
    /// An exception it throws is logged and contained.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Action<TaskEndedArguments>? OnEnded { get; init; }
}
