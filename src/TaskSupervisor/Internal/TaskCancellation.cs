namespace TaskSupervision.Internal;

/// <summary>
/// A task's cancellation source, which is also the work item that runs the task on the thread pool.
/// </summary>
/// <remarks>
/// The handle itself must not be an <see cref="IThreadPoolWorkItem"/>: it is public, and a cast and a call to
/// <c>Execute</c> would start a task past the concurrency limit. This object is never handed out (a
/// <see cref="CancellationToken"/> does not expose its source), and being the cancellation source the task needs anyway,
/// it costs the start path no allocation of its own.
/// </remarks>
internal sealed class TaskCancellation(SupervisedTask task) : CancellationTokenSource, IThreadPoolWorkItem
{
    public void Execute() => task.Execute();
}
