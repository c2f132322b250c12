namespace TaskSupervision.Internal;

/// <summary>
/// The handle of a state-passing start: the state is a field of the handle (no closure, no holder object), and the work
/// receives a <see cref="TaskContext"/> built for each attempt.
/// </summary>
/// <typeparam name="TState">The type of the state.</typeparam>
internal sealed class StatefulSupervisedTask<TState> : SupervisedTask
{
    private TState? _state;

    public StatefulSupervisedTask(TaskSupervisor owner, string? key, TState state, Func<TState, TaskContext, Task> work, TaskOptions? options)
        : base(owner, key, work, options)
    {
        _state = state;
    }

    private protected override Task InvokeWork(object work, CancellationToken cancellationToken) =>
        ((Func<TState, TaskContext, Task>)work)(_state!, new TaskContext(this, RestartCount + 1, cancellationToken));

    private protected override void ReleaseWork()
    {
        // Like the delegate, the state is dropped once the task will never run again: a finished handle keeps neither.
        base.ReleaseWork();
        _state = default;
    }
}
