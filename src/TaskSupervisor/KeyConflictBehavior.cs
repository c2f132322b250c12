using System.Text.Json.Serialization;

namespace TaskSupervision;

/// <summary>What a keyed start does when a task with the same key is still tracked.</summary>
/// <remarks>
/// Serialised by System.Text.Json as its member name, never as a number, whatever the serializer options: a
/// number in a JSON response is meaningless to its reader and breaks when a member is added. Names also bind from
/// configuration.
/// </remarks>
[JsonConverter(typeof(JsonStringEnumConverter<KeyConflictBehavior>))]
public enum KeyConflictBehavior
{
    /// <summary>
    /// The start throws <see cref="TaskKeyConflictException"/> and the running task is left alone.
    /// This is the default; use <c>TryRun</c> to get <see langword="false"/> instead of an exception.
    /// </summary>
    Reject = 0,

    /// <summary>
    /// The running task is cancelled and the new task starts only after the old one has ended (its
    /// <c>finally</c> blocks and callbacks have run), so two tasks of the same key never run at once.
    /// The new handle is returned at once, in the <see cref="SupervisedTaskStatus.Pending"/> state.
    /// </summary>
    Replace = 1,

    /// <summary>
    /// The new work is not started and the handle of the running task is returned instead
    /// (a "get or start" for idempotent work such as one monitor per session).
    /// </summary>
    UseExisting = 2,

    /// <summary>
    /// The new task waits behind the running one and starts after it ends, without cancelling it: at most one task of the
    /// key runs at a time, in the order they were started ("one cache rebuild at a time"). The key then maps to the
    /// newest task of the line, so a lookup or a cancel by key reaches the last one queued.
    /// </summary>
    Enqueue = 3,
}
