using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>The state-passing starts: the work receives a state and a <see cref="TaskContext"/>, and needs no closure.</summary>
public sealed partial class TaskSupervisor
{
    /// <inheritdoc />
    public SupervisedTask Run<TState>(TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        return StartCore(new StatefulSupervisedTask<TState>(this, key: null, state, work, options), KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }

    /// <inheritdoc />
    public SupervisedTask Run<TState>(string key, TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        return StartCore(new StatefulSupervisedTask<TState>(this, key, state, work, options), options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }
}
