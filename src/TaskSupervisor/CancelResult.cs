using System.Text.Json.Serialization;

namespace TaskSupervision;

/// <summary>How a task ended after a cancel-and-await request.</summary>
/// <remarks>
/// Serialised by System.Text.Json as its member name, never as a number, whatever the serializer options: a
/// number in a JSON response is meaningless to its reader and breaks when a member is added. Names also bind from
/// configuration.
/// </remarks>
[JsonConverter(typeof(JsonStringEnumConverter<CancelResult>))]
public enum CancelResult
{
    /// <summary>No task with that key was tracked.</summary>
    NotFound = 0,

    /// <summary>The task finished successfully before it observed the cancellation.</summary>
    RanToCompletion = 1,

    /// <summary>The task observed the cancellation and ended canceled.</summary>
    Canceled = 2,

    /// <summary>The task ended with an exception (see <see cref="SupervisedTask.Exception"/>); the fault was logged and reported as usual.</summary>
    Faulted = 3,

    /// <summary>
    /// The task was still running when the timeout elapsed: it ignores its token or is slow to stop. It stays tracked,
    /// keeps its key, and is reported as a straggler if it is still running when the supervisor drains.
    /// </summary>
    StillRunning = 4,
}
