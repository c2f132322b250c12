using System.Diagnostics;
using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>
/// The handle of a task started through an <see cref="ITaskSupervisor"/>: its identity, its status, a <see cref="Task"/>
/// to await, and its cancellation.
/// </summary>
/// <remarks>
/// <para>All members are thread-safe. A handle holds no reference to the work's delegate or result once the task has ended,
/// and the supervisor forgets the handle as soon as the task ends: keeping it alive is the caller's choice.</para>
/// <para>The handle is created by the supervisor; it cannot be constructed or derived from outside this library.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The CancellationTokenSource has no timer and no wait handle, so it holds nothing to release; disposing it while a cancel races would throw.")]
public class SupervisedTask
{
    private static readonly ContextCallback s_start = static state => ((SupervisedTask)state!).Start();

    private static readonly Task<CancelResult> s_ranToCompletion = Task.FromResult(CancelResult.RanToCompletion);
    private static readonly Task<CancelResult> s_canceled = Task.FromResult(CancelResult.Canceled);
    private static readonly Task<CancelResult> s_faulted = Task.FromResult(CancelResult.Faulted);

    // Set in _status (above the status's own bits) by the one caller that ends the task, while it releases and reports;
    // the status proper changes only once the task is forgotten. Status and IsEnded mask it out.
    private const int EndingBit = 0x100;

    private readonly TaskSupervisor _owner;
    private readonly TaskOptions? _options;
    private readonly TaskCancellation _cancellation;
    private readonly long _startTimestamp;
    // Created only for a feature in use (a policy, a listener, the limiter's queue); see TaskExtras.
    private TaskExtras? _extras;
    private ExecutionContext? _context;

    // The work delegate until the task ends, then null: a finished handle keeps neither the closure nor the result alive.
    private object? _work;

    // The work's Task while an attempt awaits it; once the task has ended Faulted or TimedOut, its exception. The two
    // never overlap (the last attempt's Task is let go before the end is published), and one field keeps the handle
    // at the size it had before the work item moved to TaskCancellation.
    private object? _runningOrException;

    // The TaskCompletionSource behind Task, created on first use so that nobody pays for it who never asks.
    private object? _completion;
    private int _status;

    internal SupervisedTask(TaskSupervisor owner, string? key, Delegate work, TaskOptions? options)
    {
        // The last-resort check of the timeout rule: a value no timer takes is rejected here, at the start, never on the
        // thread pool where it would crash the process.
        RestartPolicy? restart = options?.Restart ?? owner.DefaultRestartPolicy;
        if (restart?.Mode == RestartMode.Never)
        {
            restart = null;
        }

        TimeSpan? timeout = options is null ? null : Guard.TaskTimeout(options.Timeout, nameof(options));
        if (restart is not null)
        {
            Guard.RestartDelays(restart, nameof(options));
        }

        if (key is not null && options is not null)
        {
            Guard.Behavior(options.IfKeyRunning, nameof(options));
        }

        _owner = owner;
        _options = options;
        _work = work;
        _cancellation = new TaskCancellation(this);
        Key = key;
        Id = owner.NextTaskId();
        _startTimestamp = owner.TimeProvider.GetTimestamp();

        // Plain tasks pay one field for policies; only a task with a timeout or a restart policy allocates their state.
        if (restart is not null || timeout is not null)
        {
            _extras = new TaskExtras(restart, timeout);
        }

        // Flow the caller's ExecutionContext (logging scopes, Activity.Current) as Task.Run does.
        _context = ExecutionContext.Capture();
    }

    /// <summary>The task's id, unique within its supervisor and increasing in start order.</summary>
    public long Id { get; }

    /// <summary>The key the task was started under, or <see langword="null"/> for unkeyed work.</summary>
    public string? Key { get; }

    /// <summary>The task's name (<see cref="TaskOptions.Name"/>), or <see langword="null"/>.</summary>
    public string? Name => _options?.Name;

    /// <summary>Whether the task was started as critical (<see cref="TaskOptions.IsCritical"/>).</summary>
    public bool IsCritical => _options?.IsCritical ?? false;

    /// <summary>When the supervisor accepted the task, by the supervisor's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset StartedAt => _owner.ToDateTimeOffset(_startTimestamp);

    /// <summary>The task's current status.</summary>
    public SupervisedTaskStatus Status => (SupervisedTaskStatus)(Volatile.Read(ref _status) & ~EndingBit);

    /// <summary>The exception of a faulted task (already logged and reported); otherwise <see langword="null"/>.</summary>
    public Exception? Exception => Status is SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut ? Volatile.Read(ref _runningOrException) as Exception : null;

    /// <summary>How many times the task has been restarted by its <see cref="RestartPolicy"/>.</summary>
    public int RestartCount => _extras is null ? 0 : Volatile.Read(ref _extras.RestartCount);

    /// <summary>
    /// The exception of the most recent failed attempt, also while the task waits to restart; <see langword="null"/> if no
    /// attempt has failed.
    /// </summary>
    public Exception? LastException => _extras?.LastException ?? Exception;

    /// <summary>Whether cancellation of this task has been requested (by <see cref="Cancel"/>, a replace, or a drain).</summary>
    public bool IsCancellationRequested => _cancellation.IsCancellationRequested;

    /// <summary>
    /// A task that completes when the supervised task has ended and its callbacks have run: successfully, canceled
    /// (with the task's own token), or faulted with the work's exception.
    /// </summary>
    /// <remarks>
    /// Awaiting it is optional: the fault has already been logged and reported, and this task never raises
    /// <see cref="TaskScheduler.UnobservedTaskException"/> if nobody awaits it.
    /// </remarks>
    public Task Task => GetCompletionTask();

    internal bool IsEnded => (Volatile.Read(ref _status) & ~EndingBit) >= (int)SupervisedTaskStatus.RanToCompletion;

    /// <summary>Whether the task has ended or is ending (its key is free from the moment the end begins).</summary>
    internal bool IsEndingOrEnded => Volatile.Read(ref _status) >= (int)SupervisedTaskStatus.RanToCompletion; // EndingBit is above every status

    // Links of the supervisor's task registry, guarded by the lock of the stripe that holds this task.
    internal SupervisedTask? RegistryPrevious;
    internal SupervisedTask? RegistryNext;
    internal byte RegistryStripe;

    // The registry's flags of this task, one byte (the handle has no room for more), guarded by the stripe's lock.
    private byte _registryFlags;

    /// <summary>Whether the task is in its registry stripe's list; guarded by the stripe's lock.</summary>
    internal bool IsRegistered
    {
        get => (_registryFlags & 1) != 0;
        set => _registryFlags = (byte)(value ? _registryFlags | 1 : _registryFlags & ~1);
    }

    /// <summary>Whether idle waits stand on this task (it is a key of its stripe's wait groups); guarded by the stripe's lock.</summary>
    internal bool IsWaitBoundary
    {
        get => (_registryFlags & 4) != 0;
        set => _registryFlags = (byte)(value ? _registryFlags | 4 : _registryFlags & ~4);
    }

    // Whether the task holds one of the concurrency limiter's run slots; set by its single dispatch, read at its end.
    internal bool HoldsRunSlot;

    /// <summary>The task's optional state, created on first use (the limiter's queue, a listener's activity).</summary>
    internal TaskExtras Extras
    {
        get
        {
            TaskExtras? extras = Volatile.Read(ref _extras);
            if (extras is null)
            {
                var created = new TaskExtras(restart: null, timeout: null);
                extras = Interlocked.CompareExchange(ref _extras, created, null) ?? created;
            }

            return extras;
        }
    }

    /// <summary>
    /// Asks the task to stop by cancelling the <see cref="CancellationToken"/> its work received. Returns at once; use
    /// <see cref="CancelAsync"/> to wait for the end. A task that has not started yet never runs.
    /// </summary>
    /// <remarks>
    /// Callbacks that the work registered on its token run on the thread pool, not on the caller's thread; an exception
    /// one of them throws is logged, never thrown here. Calling it again, or after the end, does nothing.
    /// </remarks>
    public void Cancel() => SignalCancellation();

    /// <summary>Cancels the task and waits until it has ended, its cleanup has run and its callbacks have run, or until <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait for the end: zero, positive up to about 49.7 days (<c>uint.MaxValue - 1</c> ms), or <see cref="Timeout.InfiniteTimeSpan"/> to wait forever.</param>
    /// <param name="cancellationToken">Stops the wait (not the task's cancellation, which has already been signalled).</param>
    /// <returns>How the task ended, or <see cref="CancelResult.StillRunning"/> if it had not ended when the timeout elapsed.</returns>
    /// <remarks>
    /// The task's cancellation is signalled before anything else, whatever the outcome of the wait. The caller's token is
    /// checked after the wait ends: if it is cancelled by then, the returned task is canceled, even if the supervised task
    /// ended in the same instant. So a token cancelled before the task ended always gives
    /// <see cref="OperationCanceledException"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite, or above the limit; thrown by this call, not by the returned task.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the wait ended.</exception>
    public Task<CancelResult> CancelAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Guard.Timeout(timeout);
        SignalCancellation();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<CancelResult>(cancellationToken);
        }

        return IsEnded ? OutcomeTask() : WaitForEndAsync(timeout, cancellationToken);
    }

    private async Task<CancelResult> WaitForEndAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        bool ended = await _owner.WaitAsync(GetCompletionTask(), timeout, cancellationToken).ConfigureAwait(false);

        // The documented contract: a token cancelled by the time the wait ends wins, even over an end in the same instant.
        cancellationToken.ThrowIfCancellationRequested();
        return ended ? await OutcomeTask().ConfigureAwait(false) : CancelResult.StillRunning;
    }

    private Task<CancelResult> OutcomeTask() => Status switch
    {
        SupervisedTaskStatus.RanToCompletion => s_ranToCompletion,
        SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut => s_faulted,
        _ => s_canceled,
    };

    /// <inheritdoc />
    public override string ToString() => $"SupervisedTask #{Id} key={Key ?? "-"} name={Name ?? "-"} {Status}";

    internal SupervisedTaskInfo ToInfo(long now) => ToInfo(now, Status);

    internal SupervisedTaskInfo ToInfo(long now, SupervisedTaskStatus status) =>
        new(Id, Key, Name, status, StartedAt, _owner.TimeProvider.GetElapsedTime(_startTimestamp, now), RestartCount, LastException);

    /// <summary>Queues the task on the thread pool. Never runs the work on the caller's thread.</summary>
#pragma warning disable TS0001 // the supervisor's own scheduling: this work item runs the tracked task itself
    internal void Schedule() => ThreadPool.UnsafeQueueUserWorkItem(_cancellation, preferLocal: true);
#pragma warning restore TS0001

    /// <summary>
    /// Queues the task once the line before it (<see cref="FollowLineOf"/>) has ended; if this task is cancelled
    /// first, it ends at once without ever running, and gives its key back.
    /// </summary>
    internal void ScheduleAfter()
    {
        TaskExtras extras = Extras;
        Task ended = extras.LineBefore!;
        if (ended.IsCompleted)
        {
            _owner.DispatchAdmitted(this);
            return;
        }

        ended.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().UnsafeOnCompleted(() =>
        {
            if (extras.TryLeavePredecessorWait())
            {
                _owner.DispatchAdmitted(this);
            }
        });
        _cancellation.Token.UnsafeRegister(
            static s =>
            {
                var task = (SupervisedTask)s!;
                if (task.Extras.TryLeavePredecessorWait())
                {
                    task.Schedule(); // it sees its cancellation and ends as canceled, without running and without a slot
                }
            },
            this);
    }

    /// <summary>
    /// Makes this task wait for the whole line of its key before it, not only its predecessor: a predecessor cancelled
    /// while it waited ends at once, but the task it waited for may still run, and two tasks of a key never run at once.
    /// Set before this task takes the key, so that a successor of this one always sees it.
    /// </summary>
    internal void FollowLineOf(SupervisedTask predecessor) => Extras.LineBefore = predecessor.LineEnded();

    /// <summary>A task that completes when this task and every task of its key's line before it have ended; never faults.</summary>
    private Task LineEnded()
    {
        Task own = GetCompletionTask();
        return _extras?.LineBefore is { IsCompleted: false } before ? BothEnded(before, own) : own;

        static async Task BothEnded(Task before, Task own)
        {
            await before.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await own.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Runs the task's next attempt; called by the thread pool through its <see cref="TaskCancellation"/>.</summary>
    internal void Execute()
    {
        try
        {
            // The state change guards against a second run of the same dispatch.
            if (Interlocked.CompareExchange(ref _status, (int)SupervisedTaskStatus.Running, (int)SupervisedTaskStatus.Pending)
                != (int)SupervisedTaskStatus.Pending)
            {
                return;
            }

            _owner.OnRunning(this);
            ExecutionContext? context = _context;

            // Task.Run's rule: work started where no AsyncLocal is set captured the same (default) context the pool
            // thread runs under, so it runs directly, without ExecutionContext.Run's save and restore; the pool resets
            // the thread's context after every work item anyway.
            if (context is null || context == ExecutionContext.Capture())
            {
                Start();
            }
            else
            {
                ExecutionContext.Run(context, s_start, this);
            }
        }
        catch (Exception ex)
        {
            FailSafely(ex);
        }
    }

    /// <summary>
    /// The last-resort net of the supervisor's own code paths (start, attempt end, backoff, timeout): whatever throws
    /// there ends the task faulted, logged and reported through its callbacks, and never reaches the thread pool.
    /// </summary>
    internal void FailSafely(Exception exception)
    {
        try
        {
            _extras?.EndAttempt(_owner.TimeProvider, out _, _cancellation.Token);
        }
        catch (Exception)
        {
            // The attempt's resources are best effort here; the end below is not.
        }

        Finish(SupervisedTaskStatus.Faulted, exception);
    }

    internal void SignalCancellation()
    {
        if (_cancellation.IsCancellationRequested)
        {
            return;
        }

        // CancelAsync marks the token cancelled at once but runs the work's registrations on the thread pool, so a
        // registration that blocks or throws can neither stall nor break the caller (a drain, a replace, a user).
        Task callbacks = _cancellation.CancelAsync();
        if (!callbacks.IsCompletedSuccessfully)
        {
            callbacks.ContinueWith(
                static (t, state) => ((SupervisedTask)state!).OnCancellationCallbacksFaulted(t.Exception!),
                this,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Cancels the task on the calling thread, running its token's callbacks there: for the drain's workers, which run
    /// on the thread pool already. An exception a callback throws is reported, never thrown.
    /// </summary>
    internal void CancelInline()
    {
        if (IsEnded || _cancellation.IsCancellationRequested)
        {
            return;
        }

        try
        {
            _cancellation.Cancel();
        }
        catch (AggregateException ex)
        {
            OnCancellationCallbacksFaulted(ex);
        }
    }

    /// <summary>
    /// Ends a task that will never run because its key was taken (<paramref name="admitted"/>: it was counted) or the
    /// supervisor was closed (it was not). No logs, no callbacks: its handle never reached the user.
    /// </summary>
    internal void EndUnstarted(bool admitted)
    {
        if (!TryBeginEnding())
        {
            return;
        }

        ReleaseWork();
        _context = null;
        Publish(SupervisedTaskStatus.Canceled, exception: null, admitted);
    }

    private protected virtual Task InvokeWork(object work, CancellationToken cancellationToken) =>
        ((Func<CancellationToken, Task>)work)(cancellationToken);

    private protected virtual void OnRanToCompletion(Task work)
    {
    }

    /// <summary>Drops the work (and, in a derived handle, its state) once the task will never run again.</summary>
    private protected virtual void ReleaseWork() => _work = null;

    private protected virtual object CreateCompletionSource() => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    private protected virtual Task GetTask(object completion) => ((TaskCompletionSource)completion).Task;

    private protected virtual void SetRanToCompletion(object completion) => ((TaskCompletionSource)completion).TrySetResult();

    private void Start()
    {
        // Once a drain has begun no task starts, nor restarts: a pending task ends canceled without running.
        object? work = _work;
        if (work is null || _cancellation.IsCancellationRequested || _owner.IsClosed)
        {
            Finish(SupervisedTaskStatus.Canceled, exception: null);
            return;
        }

        if (_extras?.Activity is { } activity)
        {
            Activity.Current = activity; // a restart: the next attempt runs under the same activity
        }
        else if (SupervisorActivities.StartFor(this, _owner.Name) is { } started)
        {
            Extras.Activity = started;
        }

        TaskExtras? extras = _extras;
        CancellationToken token = extras is null ? _cancellation.Token : extras.BeginAttempt(_owner.TimeProvider, _cancellation.Token);
        Task? running;
        try
        {
            running = InvokeWork(work, token);
        }
        catch (OperationCanceledException ex) when (token.IsCancellationRequested)
        {
            OnAttemptEnded(SupervisedTaskStatus.Canceled, ex);
            return;
        }
        catch (Exception ex)
        {
            // Thrown before the work's first await: reported exactly like a fault of the returned task.
            OnAttemptEnded(SupervisedTaskStatus.Faulted, ex);
            return;
        }

        if (running is null)
        {
            OnAttemptEnded(SupervisedTaskStatus.Faulted, new InvalidOperationException("The work delegate returned a null Task. Return Task.CompletedTask for work that has nothing to await."));
            return;
        }

        if (running.IsCompleted)
        {
            OnWorkEnded(running);
            return;
        }

        _runningOrException = running;
        running.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnWorkEnded);
    }

    private void OnWorkEnded()
    {
        // A continuation on the thread pool: nothing may escape it.
        try
        {
            if (_runningOrException is not Task running)
            {
                return; // the task already ended through the last-resort net, which published its exception here
            }

            _runningOrException = null;
            OnWorkEnded(running);
        }
        catch (Exception ex)
        {
            FailSafely(ex);
        }
    }

    private void OnWorkEnded(Task running)
    {
        if (running.IsCompletedSuccessfully)
        {
            OnRanToCompletion(running);
            OnAttemptEnded(SupervisedTaskStatus.RanToCompletion, exception: null);
        }
        else if (running.IsCanceled)
        {
            // The exception is only built if the cancellation turns out to be a fault: cancelling costs no throw.
            OnAttemptEnded(SupervisedTaskStatus.Canceled, exception: null, canceledWork: running);
        }
        else
        {
            // Reading Task.Exception marks the work's task as observed.
            AggregateException aggregate = running.Exception!;
            OnAttemptEnded(SupervisedTaskStatus.Faulted, aggregate.InnerExceptions.Count == 1 ? aggregate.InnerException! : aggregate);
        }
    }

    /// <summary>Decides how an attempt ended, and whether the task ends or restarts.</summary>
    private void OnAttemptEnded(SupervisedTaskStatus status, Exception? exception, Task? canceledWork = null)
    {
        TaskExtras? extras = _extras;
        TimeSpan overBy = TimeSpan.Zero;
        bool timedOut = extras?.EndAttempt(_owner.TimeProvider, out overBy, _cancellation.Token) ?? false;
        if (status == SupervisedTaskStatus.Canceled && !_cancellation.IsCancellationRequested && !timedOut)
        {
            // Nobody asked this task to stop: an HttpClient timeout or a linked token of the work's own. Report it.
            status = SupervisedTaskStatus.Faulted;
            exception ??= canceledWork is null ? new OperationCanceledException() : GetCancellationException(canceledWork);
        }
        else if (timedOut && status != SupervisedTaskStatus.RanToCompletion)
        {
            status = SupervisedTaskStatus.TimedOut;
            exception = new TimeoutException($"The supervised task ran past its timeout of {extras!.Timeout}.", exception);
        }
        else if (timedOut)
        {
            // It ignored its token and completed after the timeout: an overrun, not a success to keep quiet about.
            _owner.ReportOverrun(this, extras!.Timeout!.Value, overBy);
        }

        if (status == SupervisedTaskStatus.Canceled)
        {
            exception = null;
        }

        // Once a drain has begun, or the task was asked to stop, an attempt's end is the task's end, with its real status.
        if (extras?.Restart is { } policy && !_cancellation.IsCancellationRequested && !_owner.IsClosed && ShouldRestart(policy.Mode, status))
        {
            if (exception is not null)
            {
                extras.LastException = exception;
            }

            int inWindow = extras.TryRecordRestart(policy, _owner.TimeProvider.GetTimestamp(), _owner.TimeProvider);
            if (inWindow == 0)
            {
                // Too many restarts within the window: give up with the last failure.
                Exception last = extras.LastException ?? new InvalidOperationException(
                    $"The supervised task was restarted more than {policy.MaxRestarts} time(s) within {policy.Window}.");
                Finish(SupervisedTaskStatus.Faulted, last, gaveUp: true);
                return;
            }

            TimeSpan delay = policy.GetDelay(inWindow, Random.Shared.NextDouble());
            _owner.ReportRestarting(this, exception, extras.RestartCount, delay);
            if (extras.Activity is not null)
            {
                SupervisorActivities.Restarting(extras.Activity, exception, extras.RestartCount, delay);
            }

            // A task waiting out its backoff runs nothing: it gives its run slot back (EnterBackoff), and takes one again
            // to restart.
            if (extras.WaitBackoff(this, delay, _owner.TimeProvider, _cancellation.Token))
            {
                Resume();
            }

            return;
        }

        Finish(status, exception);
    }

    private static bool ShouldRestart(RestartMode mode, SupervisedTaskStatus status) => mode switch
    {
        RestartMode.Always => true,
        RestartMode.OnFailure => status is SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut,
        _ => false,
    };

    /// <summary>The task now waits out a restart delay: pending until its next attempt.</summary>
    /// <remarks>
    /// A running task's status belongs to the thread that ends its attempt: only that thread ends the task or moves it to
    /// a backoff (the timer and the token of a backoff being armed only mark it, see <see cref="TaskExtras.WaitBackoff"/>;
    /// a pending task is claimed by the Pending-to-Running exchange in <see cref="Execute"/>). So nobody can end the task
    /// between the uncounting and the status change below, and it leaves <see cref="TaskSupervisor.RunningCount"/> once.
    /// </remarks>
    internal void EnterBackoff()
    {
        // Uncounted first: whoever sees the task pending sees it gone from RunningCount too.
        _owner.OnLeftRunning();
        int previous = Interlocked.CompareExchange(ref _status, (int)SupervisedTaskStatus.Pending, (int)SupervisedTaskStatus.Running);
        Debug.Assert(previous == (int)SupervisedTaskStatus.Running, "Only the attempt's own thread moves a running task to its backoff.");

        // The run slot last, as at an end: a task dispatched into it sees this one pending and uncounted, so neither
        // Status nor RunningCount ever shows more tasks running than the limit. Still while the backoff is being armed:
        // nobody resumes this task, and takes a slot for it, before this one is given back.
        ReleaseRunSlot();
    }

    /// <summary>The backoff delay elapsed, or the task was cancelled during it: run the next attempt (which ends at once if cancelled).</summary>
    internal void EndBackoff()
    {
        // Called by a timer or a token registration, on the thread pool: nothing may escape it.
        try
        {
            if (_extras!.TryEndBackoff())
            {
                Resume();
            }
        }
        catch (Exception ex)
        {
            FailSafely(ex);
        }
    }

    /// <summary>After a backoff: a task that will not run again ends at once; one that will takes a run slot first.</summary>
    private void Resume()
    {
        if (_cancellation.IsCancellationRequested || _owner.IsClosed)
        {
            Schedule();
        }
        else
        {
            _owner.DispatchAdmitted(this);
        }
    }

    private void ReleaseRunSlot()
    {
        if (HoldsRunSlot)
        {
            HoldsRunSlot = false;
            _owner.ReleaseRunSlot();
        }
    }

    /// <summary>Registers the removal of this queued task from <paramref name="limiter"/> on its cancellation, once.</summary>
    internal void RemoveFromQueueWhenCancelled(ConcurrencyLimiter limiter)
    {
        Debug.Assert(_owner.Limiter == limiter, "The task is queued by its own supervisor.");
        TaskExtras extras = Extras;
        if (extras.QueueRemovalRegistered)
        {
            return;
        }

        extras.QueueRemovalRegistered = true;
        _cancellation.Token.UnsafeRegister(static s => ((SupervisedTask)s!)._owner.Limiter!.Remove((SupervisedTask)s!), this);
    }

    private static OperationCanceledException GetCancellationException(Task canceled)
    {
        try
        {
            canceled.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex)
        {
            return ex;
        }

        return new OperationCanceledException("The work ended canceled although the supervisor did not cancel it.");
    }

    /// <summary>Claims the end of the task: true for exactly one caller, which then releases, reports and publishes it.</summary>
    private bool TryBeginEnding()
    {
        int status = Volatile.Read(ref _status);
        while ((status & EndingBit) == 0 && status < (int)SupervisedTaskStatus.RanToCompletion)
        {
            int seen = Interlocked.CompareExchange(ref _status, status | EndingBit, status);
            if (seen == status)
            {
                return true;
            }

            status = seen;
        }

        return false;
    }

    private void Finish(SupervisedTaskStatus status, Exception? exception, bool gaveUp = false)
    {
        if (!TryBeginEnding())
        {
            return;
        }

        ReleaseWork();
        _context = null;
        TaskExtras? extras = _extras;
        TimeSpan elapsed = TimeSpan.Zero;

        // Nothing extra when nothing listens: an end that no log line, metric or callback takes reads no clock.
        bool reported = _owner.IsEndReported(status, _options?.OnEnded);
        try
        {
            extras?.EndBackoffResources();
            if (reported)
            {
                elapsed = _owner.TimeProvider.GetElapsedTime(_startTimestamp);
            }

            // Logs and callbacks run before the task is published as ended, so that whoever awaits Task, WhenIdleAsync or
            // a drain sees the task's reporting done. The key is released first so that a new task of the same key may start.
            if (extras?.Activity is { } activity)
            {
                extras.Activity = null;
                SupervisorActivities.Stop(activity, status, exception, gaveUp);
            }
        }
        catch (Exception)
        {
            // A throwing clock or activity listener must not keep the task from ending; the report below still runs.
        }

        _owner.ReportEnded(this, status, exception, elapsed, _options?.OnEnded, gaveUp, reported);
        Publish(status, exception, admitted: true);
    }

    /// <summary>
    /// Publishes the end. "Ended" means forgotten: the run slot, the registry entry and the count are released first
    /// (the key was released by the report), and only then does the status change and the handle's Task complete, so
    /// that whoever sees the end (an await, WhenIdleAsync, a drain) sees a supervisor that has let the task go.
    /// </summary>
    private void Publish(SupervisedTaskStatus status, Exception? exception, bool admitted)
    {
        _runningOrException = exception;

        // Out of RunningCount before out of Count: whoever sees the task forgotten (Count, WhenIdleAsync) sees it not
        // running too. The status word is this caller's alone while it ends (EndingBit), so it can be read here.
        if ((Volatile.Read(ref _status) & ~EndingBit) == (int)SupervisedTaskStatus.Running)
        {
            _owner.OnLeftRunning();
        }

        ReleaseRunSlot();
        TaskRegistry.Removal forgotten = admitted ? _owner.Forget(this, status) : default;

        // A full fence: GetCompletionTask writes _completion then reads _status, this writes _status then reads
        // _completion, so at least one of the two sees the other and the completion source is always completed.
        Interlocked.Exchange(ref _status, (int)status);

        object? completion = Volatile.Read(ref _completion);
        if (completion is not null)
        {
            Complete(completion);
        }

        _owner.Announce(forgotten);
    }

    private Task GetCompletionTask()
    {
        object? completion = Volatile.Read(ref _completion);
        if (completion is null)
        {
            object created = CreateCompletionSource();
            completion = Interlocked.CompareExchange(ref _completion, created, null) ?? created;
            if (IsEnded)
            {
                Complete(completion);
            }
        }

        return GetTask(completion);
    }

    private void Complete(object completion)
    {
        switch (Status)
        {
            case SupervisedTaskStatus.RanToCompletion:
                SetRanToCompletion(completion);
                break;
            case SupervisedTaskStatus.Canceled:
                SetCanceled(completion, _cancellation.Token);
                break;
            case SupervisedTaskStatus.Faulted:
            case SupervisedTaskStatus.TimedOut:
                SetFaulted(completion, (Exception)_runningOrException!);
                break;
        }
    }

    private static void SetCanceled(object completion, CancellationToken token)
    {
        switch (completion)
        {
            case TaskCompletionSource tcs:
                tcs.TrySetCanceled(token);
                break;
            default:
                ((ICompletionSource)completion).TrySetCanceled(token);
                break;
        }
    }

    private void SetFaulted(object completion, Exception exception)
    {
        Task task = GetTask(completion);
        bool set = completion is TaskCompletionSource tcs
            ? tcs.TrySetException(exception)
            : ((ICompletionSource)completion).TrySetException(exception);
        if (set)
        {
            // The fault has been logged and reported already: mark it observed so that an un-awaited handle never
            // raises TaskScheduler.UnobservedTaskException.
            _ = task.Exception;
        }
    }

    private void OnCancellationCallbacksFaulted(AggregateException exception) =>
        _owner.ReportCancellationCallbackFailure(this, exception);

    /// <summary>Lets the generic handle complete its own <see cref="TaskCompletionSource{TResult}"/> without reflection.</summary>
    private protected interface ICompletionSource
    {
        bool TrySetCanceled(CancellationToken token);

        bool TrySetException(Exception exception);
    }
}
