namespace TaskSupervision;

/// <summary>Why a <c>TryRun</c> did not start its work.</summary>
/// <remarks>
/// Each <c>TryRun</c> returns <see langword="false"/> for exactly one of these reasons, and never throws for them (as
/// <c>ChannelWriter.TryWrite</c> returns <see langword="false"/> once the channel is completed). When it returns
/// <see langword="true"/>, the reason is <see cref="None"/>.
/// </remarks>
public enum StartRefusal
{
    /// <summary>Not refused: the work was started or queued.</summary>
    None = 0,

    /// <summary>
    /// A task is tracked under the key (keyed <c>TryRun</c> only). The <c>task</c> out-parameter is that task, the
    /// holder of the key (for the typed overload: when it produces the same result type, else <see langword="null"/>).
    /// </summary>
    KeyInUse = 1,

    /// <summary>
    /// The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>); a later try may succeed. <c>Run</c>
    /// throws <see cref="SupervisorQueueFullException"/> here, and <c>RunAsync</c> waits for room.
    /// </summary>
    QueueFull = 2,

    /// <summary>
    /// The supervisor is draining or drained and accepts no more work, for good (<see cref="ITaskSupervisor.IsClosed"/>).
    /// <c>Run</c> and <c>RunAsync</c> throw <see cref="SupervisorClosedException"/> here.
    /// </summary>
    Closed = 3,
}
