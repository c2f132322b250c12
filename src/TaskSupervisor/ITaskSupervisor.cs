using System.Diagnostics.CodeAnalysis;

namespace TaskSupervision;

/// <summary>
/// Owns background work: every task started through it is tracked (optionally under a key), its fault is always
/// observed, logged and reported, it can be cancelled and awaited, and on <see cref="DrainAsync"/> or disposal every task
/// is cancelled and awaited within a deadline.
/// </summary>
/// <remarks>
/// <para>Every member is thread-safe. Work always starts on the thread pool, never on the caller's thread, so a request
/// handler is never delayed by the synchronous part of the work. The caller's <see cref="ExecutionContext"/> flows to the
/// work, as with <see cref="Task.Run(Func{Task})"/>.</para>
/// <para>The work receives a <see cref="CancellationToken"/> that is cancelled when the task is cancelled, replaced, or
/// drained. A work that ends canceled without that token having been cancelled is reported as
/// <see cref="SupervisedTaskStatus.Faulted"/>: an unrequested cancellation (a timeout) is a failure.</para>
/// <para>Once a drain has begun (<see cref="DrainAsync"/>, <see cref="IAsyncDisposable.DisposeAsync"/>), every start
/// throws <see cref="ObjectDisposedException"/>. Lookups, snapshots, cancellation and waits keep working, so that
/// shutdown code can inspect and cancel stragglers.</para>
/// </remarks>
public interface ITaskSupervisor : IAsyncDisposable
{
    /// <summary>The supervisor's name, used in logs (<see cref="TaskSupervisorOptions.Name"/>).</summary>
    string Name { get; }

    /// <summary>The number of tasks tracked now: pending or running, keyed or not.</summary>
    int Count { get; }

    /// <summary>The number of tasks waiting for a run slot under <see cref="TaskSupervisorOptions.MaxConcurrency"/>.</summary>
    int PendingCount { get; }

    /// <summary>Starts unkeyed work on the thread pool and returns its handle at once.</summary>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    SupervisedTask Run(Func<CancellationToken, Task> work, TaskOptions? options = null);

    /// <summary>Starts unkeyed work that produces a result, on the thread pool, and returns its handle at once.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle; await <see cref="SupervisedTask{TResult}.Task"/> for the result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    SupervisedTask<TResult> Run<TResult>(Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null);

    /// <summary>
    /// Starts unkeyed work with a fresh asynchronous DI scope: the work receives the scope's <see cref="IServiceProvider"/>,
    /// and the scope is disposed after the work ends. Use it for scoped services (a <c>DbContext</c>), never the request's.
    /// </summary>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    SupervisedTask Run(Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null);

    /// <summary>Starts work under <paramref name="key"/>; what happens if the key is taken is set by <see cref="TaskOptions.IfKeyRunning"/>.</summary>
    /// <param name="key">The key, such as <c>"monitor:" + sessionId</c>; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    SupervisedTask Run(string key, Func<CancellationToken, Task> work, TaskOptions? options = null);

    /// <summary>Starts work that produces a result under <paramref name="key"/>; see <see cref="Run(string, Func{CancellationToken, Task}, TaskOptions?)"/>.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="InvalidOperationException">The behaviour is <see cref="KeyConflictBehavior.UseExisting"/> and the running task does not produce a <typeparamref name="TResult"/>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    SupervisedTask<TResult> Run<TResult>(string key, Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null);

    /// <summary>Starts keyed work with a fresh asynchronous DI scope; see <see cref="Run(Func{IServiceProvider, CancellationToken, Task}, TaskOptions?)"/>.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    SupervisedTask Run(string key, Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null);

    /// <summary>Starts unkeyed work unless the pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</summary>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">The new task's handle, or <see langword="null"/> when the queue is full.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    bool TryRun(Func<CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, TaskOptions? options = null);

    /// <summary>Starts unkeyed work, first waiting for room in the pending queue if it is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</summary>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The task's handle, once the work is started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    ValueTask<SupervisedTask> RunAsync(Func<CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts keyed work, first waiting for room in the pending queue if it is full; see <see cref="Run(string, Func{CancellationToken, Task}, TaskOptions?)"/>.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    ValueTask<SupervisedTask> RunAsync(string key, Func<CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts work under <paramref name="key"/> unless the key is taken or the pending queue is full. <see cref="TaskOptions.IfKeyRunning"/> is ignored.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">
    /// The new task's handle when it was started; otherwise the task that holds the key (a "get or start" that tells which),
    /// or <see langword="null"/> when the pending queue is full.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started; <see langword="false"/> if a task with that key is tracked or the queue is full.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    bool TryRun(string key, Func<CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, TaskOptions? options = null);

    /// <summary>Starts work that produces a result under <paramref name="key"/> unless the key is taken.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">
    /// The new task's handle when it was started; otherwise the task that holds the key (a "get or start" that tells which),
    /// or <see langword="null"/> when the pending queue is full.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started; <see langword="false"/> if a task with that key is tracked or the queue is full.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="ObjectDisposedException">The supervisor is draining or disposed.</exception>
    bool TryRun<TResult>(string key, Func<CancellationToken, Task<TResult>> work, [NotNullWhen(true)] out SupervisedTask<TResult>? task, TaskOptions? options = null);

    /// <summary>Looks up the task tracked under <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="task">The task's handle, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> if a task with that key is tracked (pending or running).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    bool TryGetTask(string key, [NotNullWhen(true)] out SupervisedTask? task);

    /// <summary>A copy of what is tracked now: id, key, name, status and age of each pending or running task.</summary>
    /// <returns>The tasks, in no particular order.</returns>
    IReadOnlyList<SupervisedTaskInfo> GetSnapshot();

    /// <summary>Cancels the task tracked under <paramref name="key"/> and waits for its end, or for <paramref name="timeout"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait for the end; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Stops the wait (the task's cancellation has already been signalled).</param>
    /// <returns>
    /// How the task ended, <see cref="CancelResult.StillRunning"/> if it had not ended within the timeout (it stays tracked),
    /// or <see cref="CancelResult.NotFound"/>. When it returns anything but those two, the task's own cleanup
    /// (<c>finally</c>, <c>catch (OperationCanceledException)</c>) and its callbacks have run.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the task ended.</exception>
    Task<CancelResult> CancelAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes when every task tracked at the moment of the call has ended (tasks started later are not waited for),
    /// like tokio-util's <c>TaskTracker::wait</c>. It never throws for a task's fault.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>A task that completes when those tasks have ended and their callbacks have run.</returns>
    /// <remarks>Called from inside a supervised task, it waits for that task too: only <paramref name="cancellationToken"/> can end that wait.</remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task WhenIdleAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Shuts the supervisor down: stops accepting work, lets tasks finish for <see cref="TaskSupervisorOptions.DrainGracePeriod"/>,
    /// cancels every task still tracked (pending ones never run), and waits for them up to <paramref name="timeout"/>.
    /// </summary>
    /// <param name="timeout">
    /// The drain's deadline, the grace period included; <see langword="null"/> for <see cref="TaskSupervisorOptions.ShutdownTimeout"/>.
    /// Only the first drain's timeout counts: later calls, and disposal, wait for the same drain.
    /// </param>
    /// <param name="cancellationToken">Stops this caller's wait; the drain itself goes on to its own deadline.</param>
    /// <returns>
    /// The drain's report. When it completes, every task tracked when the drain began has ended and its callbacks have
    /// run, except the <see cref="DrainReport.Stragglers"/>: tasks still running at the deadline, each logged by key and
    /// name. A task that ignores its token cannot be stopped; the drain never waits past its deadline for one.
    /// </returns>
    /// <remarks>
    /// Awaited from inside a supervised task, a drain waits for that task too, which is awaiting the drain: it returns at
    /// its deadline with the caller as a straggler (with an infinite timeout, never). To shut down from inside, start the
    /// drain without awaiting it and return on your token.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the drain ended.</exception>
    Task<DrainReport> DrainAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The report of the drain that has ended (<see cref="DrainAsync"/> or disposal), or <see langword="null"/> while none
    /// has: the way to read what <see cref="IAsyncDisposable.DisposeAsync"/> did, which returns no report.
    /// </summary>
    DrainReport? LastDrainReport { get; }
}
