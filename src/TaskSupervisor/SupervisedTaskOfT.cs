namespace TaskSupervision;

/// <summary>The handle of a supervised task whose work produces a <typeparamref name="TResult"/>.</summary>
/// <typeparam name="TResult">The type of the work's result.</typeparam>
/// <remarks>All members are thread-safe. See <see cref="SupervisedTask"/>.</remarks>
public sealed class SupervisedTask<TResult> : SupervisedTask
{
    private TResult? _result;

    internal SupervisedTask(TaskSupervisor owner, string? key, Func<CancellationToken, Task<TResult>> work, TaskOptions? options)
        : base(owner, key, work, options)
    {
    }

    /// <summary>
    /// A task that completes with the work's result when the supervised task has ended and its callbacks have run, or
    /// ends canceled or faulted as the work did.
    /// </summary>
    /// <remarks>Awaiting it is optional: a fault has already been logged and reported, and is never left unobserved.</remarks>
    public new Task<TResult> Task => (Task<TResult>)base.Task;

    private protected override Task InvokeWork(object work, CancellationToken cancellationToken) =>
        ((Func<CancellationToken, Task<TResult>>)work)(cancellationToken);

    private protected override void OnRanToCompletion(Task work) => _result = ((Task<TResult>)work).Result;

    private protected override object CreateCompletionSource() => new CompletionSource();

    private protected override Task GetTask(object completion) => ((CompletionSource)completion).Task;

    private protected override void SetRanToCompletion(object completion)
    {
        // _result is kept (not cleared) because Task may be asked for, and completed, by more than one thread.
        ((CompletionSource)completion).TrySetResult(_result!);
    }

    private sealed class CompletionSource() : TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously), ICompletionSource
    {
        bool ICompletionSource.TrySetCanceled(CancellationToken token) => TrySetCanceled(token);

        bool ICompletionSource.TrySetException(Exception exception) => TrySetException(exception);
    }
}
