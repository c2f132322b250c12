using System.Text.Json.Serialization;

namespace TaskSupervision;

/// <summary>
/// Where a supervised task is in its life. A task moves from <see cref="Pending"/> to <see cref="Running"/>
/// and ends in exactly one of <see cref="RanToCompletion"/>, <see cref="Canceled"/> or <see cref="Faulted"/>.
/// </summary>
/// <remarks>
/// Serialised by System.Text.Json as its member name, never as a number, whatever the serializer options: a
/// number in a JSON response is meaningless to its reader and breaks when a member is added. Names also bind from
/// configuration.
/// </remarks>
[JsonConverter(typeof(JsonStringEnumConverter<SupervisedTaskStatus>))]
public enum SupervisedTaskStatus
{
    /// <summary>Accepted by the supervisor but not yet running: queued on the thread pool, or waiting for the task it replaces to end.</summary>
    Pending = 0,

    /// <summary>The work delegate has been invoked and its task has not ended yet.</summary>
    Running = 1,

    /// <summary>The work ended successfully.</summary>
    RanToCompletion = 2,

    /// <summary>
    /// The work ended because the supervisor asked it to (the task was cancelled, replaced or drained),
    /// or it was cancelled before it ever started.
    /// </summary>
    Canceled = 3,

    /// <summary>
    /// The work threw, returned a <see langword="null"/> task, or ended canceled without the supervisor having asked it to
    /// (for example an <c>HttpClient</c> timeout): a cancellation nobody requested is a failure, not a shutdown.
    /// </summary>
    Faulted = 4,

    /// <summary>
    /// The work ran past its <see cref="TaskOptions.Timeout"/> and was cancelled: a failure, distinct from a cancellation that
    /// a user asked for. <see cref="SupervisedTask.Exception"/> is a <see cref="TimeoutException"/>.
    /// </summary>
    TimedOut = 5,
}
