namespace TaskSupervision.Internal;

/// <summary>
/// What a task needs only when a feature is in use: its restart policy and timeout (the attempt and restart state
/// machine's data), its activity when a listener is attached, its place in the concurrency limiter's queue, the gate of a
/// successor waiting for its predecessor. A plain task never allocates it, so the handle stays small. The attempt state
/// is used by one attempt at a time (attempts never overlap); the queue fields are guarded by the limiter's lock.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Justification = "Each attempt's CancellationTokenSource is disposed when the attempt ends (EndAttempt), the backoff timer when the backoff ends.")]
internal sealed class TaskExtras(RestartPolicy? restart, TimeSpan? timeout)
{
    private const int Waiting = 0;
    private const int Resumed = 1;
    private const int Arming = -1;
    private const int EndedWhileArming = 2;

    private CancellationTokenSource? _attemptCancellation;
    private CancellationTokenRegistration _link;
    private long _attemptStarted;
    private RestartWindow? _window;
    private ITimer? _backoffTimer;
    private CancellationTokenRegistration _backoffCancellation;
    private int _backoffEnded;
    private int _predecessorGate;

    public RestartPolicy? Restart { get; } = restart;

    /// <summary>The task's activity, when a listener is attached; it spans every attempt.</summary>
    public System.Diagnostics.Activity? Activity;

    /// <summary>The task's node in the concurrency limiter's queue while it waits there.</summary>
    public LinkedListNode<SupervisedTask>? QueueNode;

    /// <summary>Whether the task holds a place of the limiter's bounded queue, to give back when it leaves the queue.</summary>
    public bool HoldsQueueRoom;

    /// <summary>Whether the removal from the limiter's queue on cancellation is registered (once for every enqueue).</summary>
    public bool QueueRemovalRegistered;

    public TimeSpan? Timeout { get; } = timeout;

    /// <summary>For a successor of a key's line: a task that completes when every task before it in the line has ended.</summary>
    public Task? LineBefore;

    public int RestartCount;

    public Exception? LastException;

    /// <summary>The token of the next attempt: the task's own, or one that also fires at the timeout.</summary>
    public CancellationToken BeginAttempt(TimeProvider time, CancellationToken task)
    {
        EndBackoffResources();
        if (Timeout is not TimeSpan timeout)
        {
            return task;
        }

        _attemptStarted = time.GetTimestamp();
        _attemptCancellation = new CancellationTokenSource(timeout, time);
        _link = task.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _attemptCancellation);
        return _attemptCancellation.Token;
    }

    /// <summary>
    /// Releases the attempt's timer; returns whether the attempt ran past its timeout (its token fired, the task's did
    /// not), and by how much.
    /// </summary>
    public bool EndAttempt(TimeProvider time, out TimeSpan overBy, CancellationToken task)
    {
        overBy = TimeSpan.Zero;
        CancellationTokenSource? attempt = _attemptCancellation;
        if (attempt is null)
        {
            return false;
        }

        _attemptCancellation = null;
        bool timedOut = attempt.IsCancellationRequested && !task.IsCancellationRequested;
        _link.Dispose();
        attempt.Dispose();
        if (timedOut)
        {
            overBy = time.GetElapsedTime(_attemptStarted) - Timeout!.Value;
            if (overBy < TimeSpan.Zero)
            {
                overBy = TimeSpan.Zero;
            }
        }

        return timedOut;
    }

    /// <summary>Records a restart at <paramref name="now"/> if the policy allows one more within its window.</summary>
    /// <returns>The number of restarts within the window, this one included; 0 when the limit is exceeded (give up).</returns>
    public int TryRecordRestart(RestartPolicy policy, long now, TimeProvider time)
    {
        int inWindow = (_window ??= new RestartWindow(policy, now)).TryRecord(now, time);
        if (inWindow > 0)
        {
            RestartCount++;
        }

        return inWindow;
    }

    /// <summary>
    /// Arms the backoff: the task's <see cref="SupervisedTask.EndBackoff"/> is called when the delay elapses or the task is
    /// cancelled, whichever is first, and only the first call resumes the task.
    /// </summary>
    /// <returns><see langword="true"/> if the backoff already ended while it was being armed: the caller resumes the task.</returns>
    public bool WaitBackoff(SupervisedTask task, TimeSpan delay, TimeProvider time, CancellationToken cancellation)
    {
        // While arming, an early end (a zero delay, a cancellation already requested) only marks the state, so that no
        // other thread resumes the task, and so touches these fields, before they are all written.
        Volatile.Write(ref _backoffEnded, Arming);
        _backoffCancellation = cancellation.UnsafeRegister(static s => ((SupervisedTask)s!).EndBackoff(), task);
        _backoffTimer = time.CreateTimer(static s => ((SupervisedTask)s!).EndBackoff(), task, delay, System.Threading.Timeout.InfiniteTimeSpan);

        // Pending only once the timer exists, and still while arming: whoever sees the task pending may rely on its
        // backoff being armed (tests advance a fake clock on that), and no early end can schedule it before it is pending.
        task.EnterBackoff();
        return Interlocked.CompareExchange(ref _backoffEnded, Waiting, Arming) == EndedWhileArming;
    }

    /// <summary>Called by the timer and by the cancellation: returns <see langword="true"/> to the one caller that resumes the task.</summary>
    public bool TryEndBackoff()
    {
        while (true)
        {
            int state = Volatile.Read(ref _backoffEnded);
            int next = state switch
            {
                Waiting => Resumed,
                Arming => EndedWhileArming,
                _ => state,
            };
            if (next == state)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _backoffEnded, next, state) == state)
            {
                return next == Resumed;
            }
        }
    }

    public void EndBackoffResources()
    {
        _backoffTimer?.Dispose();
        _backoffTimer = null;
        _backoffCancellation.Dispose();
        _backoffCancellation = default;
    }

    /// <summary>
    /// A successor waiting for its predecessor leaves the wait once: when the predecessor ends (it is dispatched) or
    /// when it is cancelled (it ends at once, never having run). Returns <see langword="true"/> to the first caller.
    /// </summary>
    public bool TryLeavePredecessorWait() => Interlocked.Exchange(ref _predecessorGate, 1) == 0;
}
