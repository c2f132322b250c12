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
/// <para><b>Starting work: one rule.</b> There are three verbs, which differ only in what happens when the start is
/// refused: <c>Run</c> throws (<see cref="SupervisorQueueFullException"/>, <see cref="TaskKeyConflictException"/>,
/// <see cref="SupervisorClosedException"/>), <c>TryRun</c> returns <see langword="false"/> and a <see cref="StartRefusal"/>,
/// and <c>RunAsync</c> waits for room in the pending queue. Each verb comes unkeyed and keyed (the key is the first
/// argument), and each takes one of four works: <c>Func&lt;CancellationToken, Task&gt;</c>;
/// <c>Func&lt;CancellationToken, Task&lt;TResult&gt;&gt;</c>, whose handle is a <see cref="SupervisedTask{TResult}"/>;
/// <c>Func&lt;IServiceProvider, CancellationToken, Task&gt;</c>, run in a fresh DI scope; and a state with
/// <c>Func&lt;TState, TaskContext, Task&gt;</c>, the general form (no closure; the work learns its key, handle and
/// attempt). Three verbs, two key forms, four works: 24 methods, every combination present. Only the token form
/// produces a result; a scoped or stateful work that computes one returns it through its own state. Options come last,
/// then, for <c>RunAsync</c>, the token that stops the wait for room.</para>
/// <para>Once a drain has begun (<see cref="DrainAsync"/>, <see cref="IAsyncDisposable.DisposeAsync"/>), <c>Run</c> and
/// <c>RunAsync</c> throw <see cref="SupervisorClosedException"/> (an <see cref="ObjectDisposedException"/>, so existing
/// <c>catch</c> blocks keep working), and <c>TryRun</c> returns <see langword="false"/> with <see cref="StartRefusal.Closed"/>,
/// as <c>ChannelWriter.TryWrite</c> does once its channel is completed. Lookups, snapshots, cancellation and waits keep
/// working, so that shutdown code can inspect and cancel stragglers.</para>
/// </remarks>
public interface ITaskSupervisor : IAsyncDisposable
{
    /// <summary>The supervisor's name, used in logs (<see cref="TaskSupervisorOptions.Name"/>).</summary>
    string Name { get; }

    /// <summary>The number of tasks tracked now: pending or running, keyed or not.</summary>
    int Count { get; }

    /// <summary>The number of tasks waiting for a run slot under <see cref="TaskSupervisorOptions.MaxConcurrency"/>.</summary>
    /// <remarks>
    /// Only the limiter's queue: a task that waits for a predecessor under its key, or waits out a restart delay, is
    /// neither pending here nor running (it is in <see cref="Count"/>, and its status is <see cref="SupervisedTaskStatus.Pending"/>).
    /// </remarks>
    int PendingCount { get; }

    /// <summary>The number of tasks whose work is running now (status <see cref="SupervisedTaskStatus.Running"/>).</summary>
    /// <remarks>
    /// <see cref="Count"/> counts every tracked task; this counts only those whose work has been invoked and has not ended,
    /// so a task waiting (for a run slot, for its key's predecessor, for a restart) is not counted. Each property is read
    /// on its own: read together, <see cref="Count"/>, <see cref="PendingCount"/> and this may describe slightly different
    /// moments. Reading it costs one pass over a few hundred counters at most, never a pass over the tasks.
    /// </remarks>
    int RunningCount { get; }

    /// <summary>
    /// Whether a drain has begun (<see cref="DrainAsync"/> or disposal): the supervisor accepts no new work, for good.
    /// It stays <see langword="true"/> after the drain has ended.
    /// </summary>
    /// <remarks>
    /// Once it is <see langword="true"/>, <c>Run</c> and <c>RunAsync</c> throw <see cref="SupervisorClosedException"/> and
    /// <c>TryRun</c> returns <see langword="false"/> with <see cref="StartRefusal.Closed"/>.
    /// </remarks>
    bool IsClosed { get; }

    /// <summary>Whether a drain has begun and has not ended yet: <see langword="false"/> before the drain and after it.</summary>
    /// <remarks>
    /// Between the start of a drain and the completion of its report, a few instructions apart, this can be
    /// <see langword="true"/> while <see cref="IsClosed"/> is still being set; after that, <see cref="IsDraining"/> implies
    /// <see cref="IsClosed"/>.
    /// </remarks>
    bool IsDraining { get; }

    /// <summary>Starts unkeyed work on the thread pool and returns its handle at once.</summary>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    SupervisedTask Run(Func<CancellationToken, Task> work, TaskOptions? options = null);

    /// <summary>Starts unkeyed work that produces a result, on the thread pool, and returns its handle at once.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle; await <see cref="SupervisedTask{TResult}.Task"/> for the result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    SupervisedTask<TResult> Run<TResult>(Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null);

    /// <summary>
    /// Starts unkeyed work with a fresh asynchronous DI scope: the work receives the scope's <see cref="IServiceProvider"/>,
    /// and the scope is disposed after the work ends. Use it for scoped services (a <c>DbContext</c>), never the request's.
    /// </summary>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
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
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
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
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
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
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    SupervisedTask Run(string key, Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null);

    /// <summary>
    /// Starts unkeyed work unless the pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>) or the
    /// supervisor is closed; it never throws for either.
    /// </summary>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">The new task's handle, or <see langword="null"/> when it returns <see langword="false"/>.</param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    bool TryRun(Func<CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts unkeyed work, first waiting for room in the pending queue if it is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</summary>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The task's handle, once the work is started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
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
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask> RunAsync(string key, Func<CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts work under <paramref name="key"/> unless the key is taken, the pending queue is full or the supervisor is
    /// closed; it never throws for any of these.
    /// </summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">
    /// The new task's handle when it was started; with <see cref="StartRefusal.KeyInUse"/>, the task that holds the key
    /// (a "get or start" that tells which); otherwise <see langword="null"/>.
    /// </param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.KeyInUse"/>, <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started; <see langword="false"/> if it was refused (<paramref name="refusal"/> says why).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    bool TryRun(string key, Func<CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>
    /// Starts work that produces a result under <paramref name="key"/> unless the key is taken, the pending queue is full
    /// or the supervisor is closed; see <see cref="TryRun(string, Func{CancellationToken, Task}, out SupervisedTask?, out StartRefusal, TaskOptions?)"/>.
    /// </summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">
    /// The new task's handle when it was started; with <see cref="StartRefusal.KeyInUse"/>, the task that holds the key
    /// (a "get or start" that tells which) if it produces a <typeparamref name="TResult"/>, else <see langword="null"/>; otherwise <see langword="null"/>.
    /// </param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.KeyInUse"/>, <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started; <see langword="false"/> if it was refused (<paramref name="refusal"/> says why).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    bool TryRun<TResult>(string key, Func<CancellationToken, Task<TResult>> work, [NotNullWhen(true)] out SupervisedTask<TResult>? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts unkeyed work that produces a result unless the pending queue is full or the supervisor is closed; it never throws for either.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="task">The new task's handle, or <see langword="null"/> when it returns <see langword="false"/>.</param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    bool TryRun<TResult>(Func<CancellationToken, Task<TResult>> work, [NotNullWhen(true)] out SupervisedTask<TResult>? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts unkeyed work with a fresh asynchronous DI scope unless the pending queue is full or the supervisor is closed; see <see cref="Run(Func{IServiceProvider, CancellationToken, Task}, TaskOptions?)"/>.</summary>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="task">The new task's handle, or <see langword="null"/> when it returns <see langword="false"/>.</param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    bool TryRun(Func<IServiceProvider, CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts keyed work with a fresh asynchronous DI scope unless the key is taken, the pending queue is full or the supervisor is closed.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="task">
    /// The new task's handle when it was started; with <see cref="StartRefusal.KeyInUse"/>, the task that holds the key;
    /// otherwise <see langword="null"/>.
    /// </param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.KeyInUse"/>, <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started; <see langword="false"/> if it was refused (<paramref name="refusal"/> says why).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    bool TryRun(string key, Func<IServiceProvider, CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts unkeyed work that receives <paramref name="state"/> and a <see cref="TaskContext"/> unless the pending queue is full or the supervisor is closed.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="state">Handed to the work on every attempt; dropped when the task ends.</param>
    /// <param name="work">The work. A <see langword="static"/> lambda captures nothing, so the start allocates no closure.</param>
    /// <param name="task">The new task's handle, or <see langword="null"/> when it returns <see langword="false"/>.</param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    bool TryRun<TState>(TState state, Func<TState, TaskContext, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts keyed work that receives <paramref name="state"/> and a <see cref="TaskContext"/> unless the key is taken, the pending queue is full or the supervisor is closed.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="state">Handed to the work on every attempt; dropped when the task ends.</param>
    /// <param name="work">The work. A <see langword="static"/> lambda captures nothing, so the start allocates no closure.</param>
    /// <param name="task">
    /// The new task's handle when it was started; with <see cref="StartRefusal.KeyInUse"/>, the task that holds the key;
    /// otherwise <see langword="null"/>.
    /// </param>
    /// <param name="refusal">
    /// <see cref="StartRefusal.None"/> when it returns <see langword="true"/>; otherwise why the work was not started:
    /// <see cref="StartRefusal.KeyInUse"/>, <see cref="StartRefusal.QueueFull"/> or <see cref="StartRefusal.Closed"/>.
    /// </param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns><see langword="true"/> if the work was started; <see langword="false"/> if it was refused (<paramref name="refusal"/> says why).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    bool TryRun<TState>(string key, TState state, Func<TState, TaskContext, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null);

    /// <summary>Starts unkeyed work that produces a result, first waiting for room in the pending queue if it is full.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The task's handle, once the work is started or queued; await <see cref="SupervisedTask{TResult}.Task"/> for the result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask<TResult>> RunAsync<TResult>(Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts keyed work that produces a result, first waiting for room in the pending queue if it is full; see <see cref="Run{TResult}(string, Func{CancellationToken, Task{TResult}}, TaskOptions?)"/>.</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="InvalidOperationException">The behaviour is <see cref="KeyConflictBehavior.UseExisting"/> and the running task does not produce a <typeparamref name="TResult"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask<TResult>> RunAsync<TResult>(string key, Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts unkeyed work with a fresh asynchronous DI scope, first waiting for room in the pending queue if it is full.</summary>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The task's handle, once the work is started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask> RunAsync(Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts keyed work with a fresh asynchronous DI scope, first waiting for room in the pending queue if it is full.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="work">The work; it receives the scope's services and the task's cancellation token.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="InvalidOperationException">The supervisor was created without an <c>IServiceScopeFactory</c>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask> RunAsync(string key, Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts unkeyed work that receives <paramref name="state"/> and a <see cref="TaskContext"/>, first waiting for room in the pending queue if it is full.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="state">Handed to the work on every attempt; dropped when the task ends.</param>
    /// <param name="work">The work. A <see langword="static"/> lambda captures nothing, so the start allocates no closure.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The task's handle, once the work is started or queued.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask> RunAsync<TState>(TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts keyed work that receives <paramref name="state"/> and a <see cref="TaskContext"/>, first waiting for room in the pending queue if it is full.</summary>
    /// <param name="key">The key; compared ordinally.</param>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="state">Handed to the work on every attempt; dropped when the task ends.</param>
    /// <param name="work">The work. A <see langword="static"/> lambda captures nothing, so the start allocates no closure.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the wait for room; it does not cancel the work once started.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before there was room.</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    ValueTask<SupervisedTask> RunAsync<TState>(string key, TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Looks up the task tracked under <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="task">The task's handle, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> if a task with that key is tracked (pending or running).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    bool TryGetTask(string key, [NotNullWhen(true)] out SupervisedTask? task);

    /// <summary>A copy of what is tracked now: id, key, name, status and age of each pending or running task.</summary>
    /// <returns>The tasks, in no particular order.</returns>
    IReadOnlyList<SupervisedTaskInfo> GetSnapshot();

    /// <summary>
    /// One page of the tracked tasks that match <paramref name="query"/> (status, key prefix), ordered by age, with the
    /// number of matching tasks on every page.
    /// </summary>
    /// <param name="query">The filters, the order and the page.</param>
    /// <returns>The page: copies of the tasks' descriptions, and <see cref="TaskPage.TotalCount"/>.</returns>
    /// <remarks>
    /// One pass over the tracked tasks. Its memory is bounded by <see cref="TaskQuery.Skip"/> + <see cref="TaskQuery.Take"/>,
    /// never by the number of tasks tracked, and it takes each of the registry's short locks once, never a lock that
    /// starts wait for long. For a dashboard over 100,000 tasks; <see cref="GetSnapshot"/> copies every task.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="query"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="TaskQuery.Skip"/> is negative, or <see cref="TaskQuery.Take"/> is not 0 to <see cref="TaskQuery.MaxTake"/>.</exception>
    TaskPage GetTasks(TaskQuery query);

    /// <summary>
    /// Cancels every tracked keyed task whose key <paramref name="keyMatches"/> accepts (a tenant, a session family:
    /// <c>key =&gt; key.StartsWith("tenant:42:", StringComparison.Ordinal)</c>) and waits for them to end, up to
    /// <paramref name="timeout"/>. The supervisor keeps accepting work: this is not a drain.
    /// </summary>
    /// <param name="keyMatches">Chooses the keys; called once per tracked keyed task, on the caller's thread, under no lock.</param>
    /// <param name="timeout">How long to wait for the tasks to end; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Stops the wait (the tasks' cancellation has already been signalled).</param>
    /// <returns>
    /// How many tasks matched, and how those that ended ended; <see cref="CancelWhereResult.StillRunning"/> counts those
    /// still running at the timeout (they stay tracked and keep their keys). The tasks counted as ended have run their
    /// cleanup and their callbacks.
    /// </returns>
    /// <remarks>
    /// <para>Only tasks tracked when it is called are cancelled: a task started under a matching key afterwards is not.
    /// A task queued behind another of the same key (<see cref="KeyConflictBehavior.Enqueue"/>) is cancelled too, before the
    /// one it waits for, so it never runs. Unkeyed tasks never match.</para>
    /// <para>The predicate runs before any task is cancelled: if it throws, the exception propagates to the caller at the
    /// call and no task has been cancelled.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="keyMatches"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite, or longer than <see cref="TaskSupervisorOptions.MaxTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the tasks ended.</exception>
    Task<CancelWhereResult> CancelWhereAsync(Func<string, bool> keyMatches, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts unkeyed work that receives <paramref name="state"/> and a <see cref="TaskContext"/> (its token, its handle,
    /// its attempt number after restarts), on the thread pool, and returns its handle at once.
    /// </summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="state">Handed to the work on every attempt; dropped when the task ends.</param>
    /// <param name="work">The work. A <see langword="static"/> lambda captures nothing, so the start allocates no closure.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The task's handle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> sets <see cref="TaskOptions.IfKeyRunning"/>, which cannot apply here (see its remarks).</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    SupervisedTask Run<TState>(TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null);

    /// <summary>
    /// Starts work under <paramref name="key"/> that receives <paramref name="state"/> and a <see cref="TaskContext"/>;
    /// see <see cref="Run(string, Func{CancellationToken, Task}, TaskOptions?)"/> for the key rules.
    /// </summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="key">The key; compared ordinally.</param>
    /// <param name="state">Handed to the work on every attempt; dropped when the task ends.</param>
    /// <param name="work">The work. A <see langword="static"/> lambda captures nothing, so the start allocates no closure.</param>
    /// <param name="options">Per-task settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The new task's handle, or the running task's handle with <see cref="KeyConflictBehavior.UseExisting"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or white space.</exception>
    /// <exception cref="TaskKeyConflictException">The key is taken and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="SupervisorQueueFullException">The pending queue is full (<see cref="TaskSupervisorOptions.MaxPending"/>).</exception>
    /// <exception cref="SupervisorClosedException">The supervisor is draining or drained (<see cref="IsClosed"/>); it derives from <see cref="ObjectDisposedException"/>.</exception>
    SupervisedTask Run<TState>(string key, TState state, Func<TState, TaskContext, Task> work, TaskOptions? options = null);

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
    /// Completes when every task tracked at the moment of the call has ended (tasks started later, even by those tasks,
    /// are not waited for: see <see cref="WhenQuiescentAsync"/> for that). It never throws for a task's fault.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>A task that completes when those tasks have ended and their callbacks have run.</returns>
    /// <remarks>Called from inside a supervised task, it waits for that task too: only <paramref name="cancellationToken"/> can end that wait.</remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task WhenIdleAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes when the supervisor tracks no task at all: the tasks tracked at the call, the tasks they start, the
    /// tasks those start, and any other task started meanwhile (tokio-util's <c>TaskTracker::wait</c>, aiojobs'
    /// <c>wait_and_close</c>, without the close). For tests and batch jobs: "everything this caused has finished".
    /// It never throws for a task's fault.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait; a cancelled wait is detached at once and keeps nothing alive.</param>
    /// <returns>
    /// A task that completes at a moment when <see cref="Count"/> is zero, found by the end of the last task (no polling):
    /// every task has been forgotten and has run its callbacks. Completes at once if nothing is tracked. As with
    /// <see cref="WhenIdleAsync"/>, a handle shows its end (<see cref="SupervisedTask.Status"/>, <see cref="SupervisedTask.Task"/>)
    /// a few instructions after the task is forgotten: await the handle's <c>Task</c> to observe that.
    /// </returns>
    /// <remarks>
    /// <para>Unlike <see cref="WhenIdleAsync"/>, which waits only for the tasks tracked when it is called, this also waits
    /// for work started later, so a steady stream of overlapping starts keeps it waiting: pass a token with a timeout, or
    /// use <see cref="DrainAsync"/> to stop accepting work first. A task started after the moment it completes at is not
    /// waited for; the supervisor keeps accepting work.</para>
    /// <para>Called from inside a supervised task, it waits for that task too: only <paramref name="cancellationToken"/>
    /// can end that wait.</para>
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task WhenQuiescentAsync(CancellationToken cancellationToken = default);

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
    /// <para>This and disposal are the owner's members: the host integration or the container that created the
    /// supervisor calls them at shutdown. A class that has the supervisor injected should not: the supervisor is shared,
    /// and a drain closes it for every other user.</para>
    /// <para>Awaited from inside a supervised task, a drain waits for that task too, which is awaiting the drain: it returns at
    /// its deadline with the caller as a straggler (with an infinite timeout, never). To shut down from inside, start the
    /// drain without awaiting it and return on your token.</para>
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
