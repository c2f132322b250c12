namespace TaskSupervision;

/// <summary>
/// Thrown by a start when the supervisor runs <see cref="TaskSupervisorOptions.MaxConcurrency"/> tasks and its queue of
/// pending tasks holds <see cref="TaskSupervisorOptions.MaxPending"/>. Use <c>TryRun</c> to get <see langword="false"/>
/// instead, or <c>RunAsync</c> to wait for room.
/// </summary>
public sealed class SupervisorQueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="maxPending">The bound of the queue that is full.</param>
    public SupervisorQueueFullException(int maxPending)
        : base($"The task supervisor's pending queue is full ({maxPending} task(s) waiting). Use TryRun to get false, or RunAsync to wait for room.")
    {
        MaxPending = maxPending;
    }

    /// <summary>The bound of the queue that is full.</summary>
    public int MaxPending { get; }
}
