using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>
/// The supervisor: see <see cref="ITaskSupervisor"/> for what it guarantees. Register it with
/// <c>services.AddTaskSupervisor()</c>, or create one directly (in a test, or outside DI) and dispose it to drain it.
/// </summary>
/// <remarks>
/// <para>Starting unkeyed work takes no global lock: one short section under the spin lock of a registry stripe (the
/// closed check, the link that lets a drain reach the task, the stripe's count) and a queue on the thread pool. Keyed
/// work adds one section under a stripe of the key table.</para>
/// <para>A task that has ended is forgotten at once: the supervisor keeps no finished task, result or exception.</para>
/// </remarks>
public sealed partial class TaskSupervisor : ITaskSupervisor, IDisposable
{
    private static readonly Task<CancelResult> s_notFound = Task.FromResult(CancelResult.NotFound);

    private readonly ILogger _logger;
    private readonly IServiceScopeFactory? _scopeFactory;
    private readonly TimeSpan _shutdownTimeout;
    private readonly TaskRegistry _registry = new();
    private readonly KeyTable _keys = new();
    private readonly TaskReporter _reporter;
    private readonly SupervisorDrain _drainer;
    private readonly QuiescenceWaits _quiescence;
    private readonly long _epochTimestamp;
    private readonly DateTimeOffset _epochUtc;

    // Written by every start: on a cache line of its own, away from the fields every start reads.
    private PaddedCounter _lastTaskId;
    private TaskCompletionSource? _idleAfterClose;
    private TaskCompletionSource<DrainReport>? _drain;
    private DrainReport? _lastDrainReport;

    /// <summary>Creates a supervisor.</summary>
    /// <param name="options">Its settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where it logs, or <see langword="null"/> for nowhere.</param>
    /// <param name="scopeFactory">Creates the per-task DI scopes of the scoped <c>Run</c> overloads; without it they throw.</param>
    /// <param name="meterFactory">Creates the meter of its metrics; without it a process-wide meter named <see cref="TaskSupervisorDiagnostics.MeterName"/> is used.</param>
    public TaskSupervisor(TaskSupervisorOptions? options = null, ILoggerFactory? loggerFactory = null, IServiceScopeFactory? scopeFactory = null, IMeterFactory? meterFactory = null)
        : this(options, defaultName: null, defaultTimeProvider: null, loggerFactory, scopeFactory, meterFactory)
    {
    }

    internal TaskSupervisor(
        TaskSupervisorOptions? options,
        string? defaultName,
        TimeProvider? defaultTimeProvider,
        ILoggerFactory? loggerFactory,
        IServiceScopeFactory? scopeFactory,
        IMeterFactory? meterFactory)
    {
        options ??= new TaskSupervisorOptions();
        IReadOnlyList<string> problems = options.GetProblems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("The task supervisor's options are invalid: " + string.Join(" ", problems), nameof(options));
        }

        Limiter = options.MaxConcurrency is int maxConcurrency ? new ConcurrencyLimiter(maxConcurrency, options.MaxPending) : null;
        DefaultRestartPolicy = options.DefaultRestartPolicy;
        Name = options.Name ?? (string.IsNullOrEmpty(defaultName) ? TaskSupervisorConstants.DefaultSupervisorName : defaultName);
        TimeProvider = options.TimeProvider ?? defaultTimeProvider ?? TimeProvider.System;
        // The last-resort check of the timeout rule (options validation reports it first, at host start).
        _shutdownTimeout = Guard.Timeout(options.ShutdownTimeout, "options.ShutdownTimeout");
        TimeSpan drainGracePeriod = Guard.Timeout(options.DrainGracePeriod, "options.DrainGracePeriod");
        if (DefaultRestartPolicy is not null)
        {
            Guard.RestartDelays(DefaultRestartPolicy, nameof(options));
        }

        _scopeFactory = scopeFactory;
        ILogger logger = loggerFactory?.CreateLogger<TaskSupervisor>() ?? NullLogger<TaskSupervisor>.Instance;
        _logger = logger == NullLogger<TaskSupervisor>.Instance ? logger : new ContainedLogger(logger);
        _epochTimestamp = TimeProvider.GetTimestamp();
        _epochUtc = TimeProvider.GetUtcNow();
        Metrics = SupervisorMetrics.For(meterFactory);
        _reporter = new TaskReporter(_logger, Metrics, Name, options.OnTaskEnded);
        _drainer = new SupervisorDrain(this, _registry, _reporter, _logger, drainGracePeriod);
        _quiescence = new QuiescenceWaits(this);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Count => _registry.Count;

    /// <summary>The clock of this supervisor (<see cref="TaskSupervisorOptions.TimeProvider"/>).</summary>
    public TimeProvider TimeProvider { get; }

    /// <inheritdoc />
    public int PendingCount => Limiter?.Pending ?? 0;

    /// <summary>
    /// The deadline of a drain that is given none (<see cref="DisposeAsync"/>, <c>DrainAsync(null)</c>):
    /// <see cref="TaskSupervisorOptions.ShutdownTimeout"/>. The host integration drains within the smaller of this and the host's.
    /// </summary>
    public TimeSpan ShutdownTimeout => _shutdownTimeout;

    /// <inheritdoc />
    public DrainReport? LastDrainReport => Volatile.Read(ref _lastDrainReport);
    /// <inheritdoc />
    public bool IsClosed => _registry.IsClosed;

    internal ConcurrencyLimiter? Limiter { get; }

    internal RestartPolicy? DefaultRestartPolicy { get; }

    internal SupervisorMetrics Metrics { get; }

    /// <summary>The idle waits attached to the registry now (for tests: a cancelled wait must be gone at once).</summary>
    internal int AttachedIdleWaits => _registry.AttachedWaits();

    /// <inheritdoc />
    public SupervisedTask Run(Func<CancellationToken, Task> work, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        return StartCore(new SupervisedTask(this, key: null, work, options), KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }

    /// <inheritdoc />
    public SupervisedTask<TResult> Run<TResult>(Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        return (SupervisedTask<TResult>)StartCore(new SupervisedTask<TResult>(this, key: null, work, options), KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }

    /// <inheritdoc />
    public SupervisedTask Run(Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null) =>
        Run(WithScope(work), options);

    /// <inheritdoc />
    public SupervisedTask Run(string key, Func<CancellationToken, Task> work, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        return StartCore(new SupervisedTask(this, key, work, options), options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
    }

    /// <inheritdoc />
    public SupervisedTask<TResult> Run<TResult>(string key, Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        SupervisedTask started = StartCore(new SupervisedTask<TResult>(this, key, work, options), options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, Reservation.None, out _)!;
        return started as SupervisedTask<TResult>
            ?? throw new InvalidOperationException($"The task running under key '{key}' does not produce a {typeof(TResult).Name}; it cannot be returned as SupervisedTask<{typeof(TResult).Name}>.");
    }

    /// <inheritdoc />
    public SupervisedTask Run(string key, Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null)
    {
        Guard.Key(key);
        return Run(key, WithScope(work), options);
    }

    /// <inheritdoc />
    public bool TryRun(Func<CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "TryRun");
        task = StartCore(new SupervisedTask(this, key: null, work, options), KeyConflictBehavior.Reject, throwOnRefusal: false, Reservation.None, out refusal);
        return task is not null;
    }

    /// <inheritdoc />
    public bool TryRun(string key, Func<CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "TryRun");
        var created = new SupervisedTask(this, key, work, options);
        task = StartCore(created, KeyConflictBehavior.UseExisting, throwOnRefusal: false, Reservation.None, out refusal);
        return ReferenceEquals(task, created);
    }

    /// <inheritdoc />
    public bool TryRun<TResult>(string key, Func<CancellationToken, Task<TResult>> work, [NotNullWhen(true)] out SupervisedTask<TResult>? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "TryRun");
        var created = new SupervisedTask<TResult>(this, key, work, options);
        SupervisedTask? result = StartCore(created, KeyConflictBehavior.UseExisting, throwOnRefusal: false, Reservation.None, out refusal);
        task = result as SupervisedTask<TResult>;
        return ReferenceEquals(result, created);
    }

    /// <inheritdoc />
    public bool TryRun<TResult>(Func<CancellationToken, Task<TResult>> work, [NotNullWhen(true)] out SupervisedTask<TResult>? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "TryRun");
        task = (SupervisedTask<TResult>?)StartCore(new SupervisedTask<TResult>(this, key: null, work, options), KeyConflictBehavior.Reject, throwOnRefusal: false, Reservation.None, out refusal);
        return task is not null;
    }

    /// <inheritdoc />
    public bool TryRun(Func<IServiceProvider, CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null) =>
        TryRun(WithScope(work), out task, out refusal, options);

    /// <inheritdoc />
    public bool TryRun(string key, Func<IServiceProvider, CancellationToken, Task> work, [NotNullWhen(true)] out SupervisedTask? task, out StartRefusal refusal, TaskOptions? options = null)
    {
        Guard.Key(key);
        return TryRun(key, WithScope(work), out task, out refusal, options);
    }

    /// <inheritdoc />
    public async ValueTask<SupervisedTask> RunAsync(Func<CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        Reservation reservation = await ReserveAsync(cancellationToken).ConfigureAwait(false);
        return StartCore(CreateHoldingReservation(reservation, key: null, work, options), KeyConflictBehavior.Reject, throwOnRefusal: true, reservation, out _)!;
    }

    /// <inheritdoc />
    public async ValueTask<SupervisedTask> RunAsync(string key, Func<CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        Reservation reservation = await ReserveAsync(cancellationToken).ConfigureAwait(false);
        return StartCore(CreateHoldingReservation(reservation, key, work, options), options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, reservation, out _)!;
    }

    /// <inheritdoc />
    public async ValueTask<SupervisedTask<TResult>> RunAsync<TResult>(Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Guard.NoConflictBehavior(options, "an unkeyed start");
        Reservation reservation = await ReserveAsync(cancellationToken).ConfigureAwait(false);
        SupervisedTask<TResult> created;
        try
        {
            created = new SupervisedTask<TResult>(this, key: null, work, options);
        }
        catch (ArgumentException)
        {
            Limiter?.Unreserve(reservation);
            throw;
        }

        return (SupervisedTask<TResult>)StartCore(created, KeyConflictBehavior.Reject, throwOnRefusal: true, reservation, out _)!;
    }

    /// <inheritdoc />
    public async ValueTask<SupervisedTask<TResult>> RunAsync<TResult>(string key, Func<CancellationToken, Task<TResult>> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        ArgumentNullException.ThrowIfNull(work);
        Reservation reservation = await ReserveAsync(cancellationToken).ConfigureAwait(false);
        SupervisedTask<TResult> created;
        try
        {
            created = new SupervisedTask<TResult>(this, key, work, options);
        }
        catch (ArgumentException)
        {
            Limiter?.Unreserve(reservation);
            throw;
        }

        SupervisedTask started = StartCore(created, options?.IfKeyRunning ?? KeyConflictBehavior.Reject, throwOnRefusal: true, reservation, out _)!;
        return started as SupervisedTask<TResult>
            ?? throw new InvalidOperationException($"The task running under key '{key}' does not produce a {typeof(TResult).Name}; it cannot be returned as SupervisedTask<{typeof(TResult).Name}>.");
    }

    /// <inheritdoc />
    public ValueTask<SupervisedTask> RunAsync(Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(WithScope(work), options, cancellationToken);

    /// <inheritdoc />
    public ValueTask<SupervisedTask> RunAsync(string key, Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        return RunAsync(key, WithScope(work), options, cancellationToken);
    }

    /// <inheritdoc />
    public bool TryGetTask(string key, [NotNullWhen(true)] out SupervisedTask? task)
    {
        Guard.Key(key);
        return _keys.TryGetValue(key, out task);
    }

    /// <inheritdoc />
    public IReadOnlyList<SupervisedTaskInfo> GetSnapshot()
    {
        List<SupervisedTask> tasks = _registry.Snapshot();
        long now = TimeProvider.GetTimestamp();
        var infos = new SupervisedTaskInfo[tasks.Count];
        for (int i = 0; i < infos.Length; i++)
        {
            infos[i] = tasks[i].ToInfo(now);
        }

        return infos;
    }

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        Guard.Timeout(timeout);
        if (!_keys.TryGetValue(key, out SupervisedTask? task))
        {
            return cancellationToken.IsCancellationRequested ? Task.FromCanceled<CancelResult>(cancellationToken) : s_notFound;
        }

        return task.CancelAsync(timeout, cancellationToken);
    }

    /// <inheritdoc />
    public Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        // A wait whose token fires detaches at once; a task's end never scans the waits.
        return Count == 0 ? Task.CompletedTask : _registry.WhenIdle(cancellationToken);
    }

    /// <inheritdoc />
    public Task<DrainReport> DrainAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TimeSpan deadline = timeout.HasValue ? Guard.Timeout(timeout.Value) : _shutdownTimeout;
        TaskCompletionSource<DrainReport>? drain = Volatile.Read(ref _drain);
        if (drain is null)
        {
            var created = new TaskCompletionSource<DrainReport>(TaskCreationOptions.RunContinuationsAsynchronously);
            drain = Interlocked.CompareExchange(ref _drain, created, null) ?? created;
            if (drain == created)
            {
#pragma warning disable TS0005 // the drain reports through 'created', which every DisposeAsync caller awaits; it cannot fault
                _ = RunDrainAsync(created, deadline);
#pragma warning restore TS0005
            }
        }

        return cancellationToken.CanBeCanceled ? drain.Task.WaitAsync(cancellationToken) : drain.Task;
    }

    /// <summary>Drains the supervisor with <see cref="TaskSupervisorOptions.ShutdownTimeout"/>; see <see cref="DrainAsync"/>. Safe to call more than once, from any thread: the drain runs once.</summary>
    /// <returns>A task that completes when the drain has ended.</returns>
    public async ValueTask DisposeAsync() => await DrainAsync().ConfigureAwait(false);

    /// <summary>
    /// Drains the supervisor synchronously, blocking the calling thread for at most <see cref="TaskSupervisorOptions.ShutdownTimeout"/>.
    /// Prefer <see cref="DisposeAsync"/>; this exists for containers disposed synchronously.
    /// </summary>
    /// <remarks>
    /// It drains, rather than only signalling cancellation as <c>BackgroundService.Dispose</c> does: a container disposed
    /// synchronously expects what it owns to be released when <c>Dispose</c> returns, and a task that outlived it would
    /// use scoped services disposed under it. When it returns, every task has ended and its callbacks have run, except the
    /// stragglers of <see cref="LastDrainReport"/>. With the host integration the drain has already run when the host
    /// stopped, so the container's <c>Dispose</c> returns at once. Called from inside a supervised task, it blocks that
    /// thread until the deadline (the drain waits for the caller too).
    /// </remarks>
    public void Dispose() => DrainAsync().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override string ToString() => $"TaskSupervisor '{Name}' ({Count} task(s))";

    internal long NextTaskId() => Interlocked.Increment(ref _lastTaskId.Value);

    internal DateTimeOffset ToDateTimeOffset(long timestamp) => _epochUtc + TimeProvider.GetElapsedTime(_epochTimestamp, timestamp);

    /// <summary>Waits for <paramref name="task"/> up to <paramref name="timeout"/>, ignoring how it ended. Throws nothing but the caller's cancellation.</summary>
    /// <returns><see langword="true"/> if it ended; <see langword="false"/> if the timeout elapsed first.</returns>
    internal async Task<bool> WaitAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            return true;
        }

        if (timeout == Timeout.InfiniteTimeSpan && !cancellationToken.CanBeCanceled)
        {
            await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return true;
        }

        // A race with a delay that ends canceled, never faulted: no exception is thrown, and none is left unobserved.
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(timeout, TimeProvider, stopDelay.Token);
        Task first = await Task.WhenAny(task, delay).ConfigureAwait(false);
        if (first == task)
        {
            await stopDelay.CancelAsync().ConfigureAwait(false);
            return true;
        }

        cancellationToken.ThrowIfCancellationRequested();
        return false;
    }

    /// <summary>Dispatches a task admitted earlier whose predecessor under the same key has ended.</summary>
    internal void DispatchAdmitted(SupervisedTask task)
    {
        if (Limiter is null)
        {
            task.Schedule();
        }
        else
        {
            Limiter.DispatchAdmitted(task);
        }
    }

    internal void ReleaseRunSlot() => Limiter!.ReleaseRunSlot();

    /// <summary>The task's work is about to run (it was pending).</summary>
    internal void OnRunning(SupervisedTask task)
    {
        _registry.OnRunning();
        Metrics.RecordRunning(Name, task.Name);
    }

    /// <summary>The task's attempt ended: it ended or waits out a restart delay.</summary>
    internal void OnLeftRunning() => _registry.OnLeftRunning();

    internal void ReportRestarting(SupervisedTask task, Exception? exception, int restartCount, TimeSpan delay) =>
        _reporter.Restarting(task, exception, restartCount, delay);

    internal void ReportOverrun(SupervisedTask task, TimeSpan timeout, TimeSpan overBy) => _reporter.Overrun(task, timeout, overBy);

    private void OnAccepted(SupervisedTask task) => Metrics.RecordAccepted(Name, task.Name);

    /// <summary>Releases the task's key, then logs how it ended and runs its callbacks. Called once per started task, before it is forgotten.</summary>
    internal void ReportEnded(SupervisedTask task, SupervisedTaskStatus status, Exception? exception, TimeSpan elapsed, Action<TaskEndedArguments>? taskCallback, bool gaveUp, bool reported)
    {
        // Once closed, no task takes a key any more: an ending holder is ignored by every look-up, and the table is
        // cleared when the last task has ended (Announce). A drain of many keyed tasks spares a look-up per task.
        if (!IsClosed)
        {
            _keys.Release(task);
        }

        if (reported)
        {
            _reporter.Ended(task, status, exception, elapsed, taskCallback, gaveUp);
        }
    }

    /// <summary>Whether a task's end with <paramref name="status"/> goes anywhere; see <see cref="TaskReporter.IsReported"/>.</summary>
    internal bool IsEndReported(SupervisedTaskStatus status, Action<TaskEndedArguments>? taskCallback) =>
        _reporter.IsReported(status, taskCallback);

    /// <summary>
    /// Forgets an ended task: out of the registry and its count (its outcome tallied if a drain counts it). Nothing is
    /// completed here; <see cref="Announce"/> does that after the handle shows the end.
    /// </summary>
    internal TaskRegistry.Removal Forget(SupervisedTask task, SupervisedTaskStatus status) => _registry.Remove(task, status);

    /// <summary>Completes what waited for the forgotten task: idle waits, and the drain when it was the last task after the close.</summary>
    internal void Announce(in TaskRegistry.Removal forgotten)
    {
        if (forgotten.IdleWaits is { } waits)
        {
            foreach (TaskRegistry.IdleWait wait in waits)
            {
                wait.Complete();
            }
        }

        // The stripe emptied (a full fence after its count): the whole count may be zero now. See QuiescenceWaits.
        if (forgotten.StripeEmptied && _quiescence.HasWaits)
        {
            _quiescence.CompleteIfQuiescent();
        }

        if (forgotten.LastAfterClose)
        {
            // The last task ended after the close: _idleAfterClose was set before the close, so it is not null. Every key
            // left in the table is stale (see ReportEnded).
            _keys.Clear();
            Volatile.Read(ref _idleAfterClose)!.TrySetResult();
        }
    }

    internal void ReportCancellationCallbackFailure(SupervisedTask task, AggregateException exception) =>
        _reporter.CancellationCallbackFailed(task, exception);

    /// <summary>
    /// Closes the supervisor to new work (a start after this throws), and returns a task that completes when the last
    /// task tracked now has been forgotten. Every task tracked now is tallied in <paramref name="tally"/> when it ends.
    /// </summary>
    internal Task Close(DrainTally tally, out int countAtClose)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idleAfterClose, idle);
        countAtClose = _registry.Close(tally, out bool idleNow);
        if (idleNow)
        {
            idle.TrySetResult();
        }

        Limiter?.SignalRoom(); // starts waiting for room see the close and give up
        return idle.Task;
    }

    /// <summary>
    /// Reserves room under the concurrency limit (unless <paramref name="reserved"/> already holds it), admits the task,
    /// resolves its key, and dispatches it.
    /// </summary>
    /// <param name="task">The new task.</param>
    /// <param name="behavior">What to do when its key is taken.</param>
    /// <param name="throwOnRefusal">
    /// Whether a full queue or a closed supervisor throws (<c>Run</c>, <c>RunAsync</c>) or is returned in
    /// <paramref name="refusal"/> (<c>TryRun</c>).
    /// </param>
    /// <param name="reserved">The room a <c>RunAsync</c> has already reserved, or <see cref="Reservation.None"/>.</param>
    /// <param name="refusal">Why the task was not started; <see cref="StartRefusal.KeyInUse"/> with UseExisting when the holder is returned.</param>
    /// <returns>The task to return to the caller (the key's holder with UseExisting), or <see langword="null"/> when the start was refused without throwing.</returns>
    private SupervisedTask? StartCore(SupervisedTask task, KeyConflictBehavior behavior, bool throwOnRefusal, Reservation reserved, out StartRefusal refusal)
    {
        refusal = StartRefusal.None;
        Reservation reservation = reserved;
        if (Limiter is not null && reservation == Reservation.None)
        {
            reservation = Limiter.TryReserve();
            if (reservation == Reservation.None)
            {
                // A closed supervisor refuses for good, a full queue only for now: report the lasting reason.
                if (IsClosed)
                {
                    refusal = StartRefusal.Closed;
                    return throwOnRefusal ? throw ClosedException() : null;
                }

                refusal = StartRefusal.QueueFull;
                return throwOnRefusal ? throw new SupervisorQueueFullException(Limiter.MaxPending) : null;
            }
        }

        if (!_registry.TryAdmit(task))
        {
            Limiter?.Unreserve(reservation);
            task.EndUnstarted(admitted: false);
            refusal = StartRefusal.Closed;
            return throwOnRefusal ? throw ClosedException() : null;
        }

        SupervisedTask? holder = task.Key is null ? null : _keys.TryAdd(task);
        while (true)
        {
            if (holder is null)
            {
                OnAccepted(task);
                Dispatch(task, reservation);
                return task;
            }

            SupervisedTask current = holder;
            switch (behavior)
            {
                case KeyConflictBehavior.Replace or KeyConflictBehavior.Enqueue:
                    task.FollowLineOf(current);
                    if (!_keys.TryUpdate(task, current))
                    {
                        // The holder ended meanwhile: try again to take the key, or to follow whoever holds it now.
                        holder = _keys.TryAdd(task);
                        continue;
                    }

                    // The new task owns the key from now on, and is dispatched only once the old one has ended; it
                    // needs no room until then.
                    Limiter?.Unreserve(reservation);
                    if (behavior == KeyConflictBehavior.Replace)
                    {
                        current.SignalCancellation();
                    }

                    OnAccepted(task);
                    task.ScheduleAfter();
                    return task;
                case KeyConflictBehavior.UseExisting:
                    Limiter?.Unreserve(reservation);
                    task.EndUnstarted(admitted: true);
                    refusal = StartRefusal.KeyInUse;
                    return current;
                default:
                    Limiter?.Unreserve(reservation);
                    task.EndUnstarted(admitted: true);
                    throw new TaskKeyConflictException(task.Key!);
            }
        }
    }

    private void Dispatch(SupervisedTask task, Reservation reservation)
    {
        if (Limiter is null)
        {
            task.Schedule();
        }
        else
        {
            Limiter.Dispatch(task, reservation);
        }
    }

    /// <summary>Creates a task for a start that already holds a reservation, giving it back if the options are rejected.</summary>
    private SupervisedTask CreateHoldingReservation(Reservation reservation, string? key, Func<CancellationToken, Task> work, TaskOptions? options)
    {
        try
        {
            return new SupervisedTask(this, key, work, options);
        }
        catch (ArgumentException)
        {
            Limiter?.Unreserve(reservation);
            throw;
        }
    }

    private async ValueTask<Reservation> ReserveAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Limiter is null)
        {
            return Reservation.None;
        }

        try
        {
            return await Limiter.ReserveAsync(() => IsClosed, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            throw ClosedException();
        }
    }

    private SupervisorClosedException ClosedException() => new(Name, IsDraining);

    private Func<CancellationToken, Task> WithScope(Func<IServiceProvider, CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        IServiceScopeFactory scopeFactory = _scopeFactory ?? throw new InvalidOperationException(
            "This supervisor has no IServiceScopeFactory: register it with services.AddTaskSupervisor(), or pass one to the TaskSupervisor constructor.");
        return async cancellationToken =>
        {
            AsyncServiceScope scope = scopeFactory.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                await work(scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
            }
        };
    }

    private async Task RunDrainAsync(TaskCompletionSource<DrainReport> result, TimeSpan timeout)
    {
        // Never faults: every exception is handed to the drain's awaiters.
        try
        {
            DrainReport report = await _drainer.RunAsync(timeout).ConfigureAwait(false);
            Volatile.Write(ref _lastDrainReport, report);
            result.TrySetResult(report);
        }
        catch (Exception ex)
        {
            result.TrySetException(ex);
        }
    }
}
