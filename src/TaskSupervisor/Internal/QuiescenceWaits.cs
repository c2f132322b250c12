using System.Diagnostics;

namespace TaskSupervision.Internal;

/// <summary>
/// The waits for a moment when the supervisor tracks no task at all (<see cref="TaskSupervisor.WhenQuiescentAsync"/>).
/// A task end looks here only when it emptied its registry stripe and a wait is attached: one volatile read otherwise.
/// </summary>
internal sealed class QuiescenceWaits(TaskSupervisor supervisor)
{
    private readonly object _lock = new();
    private readonly HashSet<Wait> _waits = new(ReferenceEqualityComparer.Instance); // guarded by _lock

    // The number of attached waits, changed with interlocked operations (full fences) under the lock and read without
    // it by the task end that emptied its stripe.
    private int _attached;

    /// <summary>Whether any wait is attached; read by the task end that emptied its stripe.</summary>
    public bool HasWaits => Volatile.Read(ref _attached) != 0;

    /// <summary>The waits attached now (for tests: a cancelled wait must be gone at once).</summary>
    public int Attached => Volatile.Read(ref _attached);

    public Task WhenQuiescent(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        if (supervisor.Count == 0)
        {
            return Task.CompletedTask;
        }

        var wait = new Wait(this);
        lock (_lock)
        {
            AssertInvariants();
            _waits.Add(wait);
            Interlocked.Increment(ref _attached);
        }

        // The increment above is a full fence, and so is the fence a task end issues after emptying its stripe (see
        // TaskRegistry.Remove); each side reads the other's word after writing its own: either this read sees the count
        // at zero, or the task end that brought it there sees this wait. No quiescent moment after the attach is missed.
        // The count itself is read under every stripe's lock, so the zero it sees is one that was.
        if (supervisor.Count == 0)
        {
            CompleteIfQuiescent();
        }

        if (cancellationToken.CanBeCanceled && !wait.Completion.Task.IsCompleted)
        {
            wait.Cancellation = cancellationToken.UnsafeRegister(static (s, token) => ((Wait)s!).Cancel(token), wait);

            // Completed while registering: the registration would otherwise stay on the caller's token until it is disposed.
            if (wait.Completion.Task.IsCompleted)
            {
                wait.Cancellation.Dispose();
            }
        }

        return wait.Completion.Task;
    }

    /// <summary>
    /// Completes every attached wait if the supervisor tracks no task now. Called after a task end emptied its stripe
    /// (the count may be zero); the count is read here, so that a task still tracked in another stripe, or started since
    /// (whose start came after that moment), keeps the waits attached until the next time the count reaches zero: a wait
    /// never completes while a task it could have seen is tracked.
    /// </summary>
    public void CompleteIfQuiescent()
    {
        Wait[] done;
        lock (_lock)
        {
            AssertInvariants();
            if (_waits.Count == 0 || supervisor.Count != 0)
            {
                return;
            }

            done = [.. _waits];
            _waits.Clear();
            Interlocked.Add(ref _attached, -done.Length);
        }

        // Outside the lock: the completions are asynchronous, but nothing the lock guards is needed for them.
        foreach (Wait wait in done)
        {
            wait.Cancellation.Dispose();
            wait.Completion.TrySetResult();
        }
    }

    private void Detach(Wait wait)
    {
        lock (_lock)
        {
            AssertInvariants();
            if (_waits.Remove(wait))
            {
                Interlocked.Decrement(ref _attached);
            }
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_lock), "The lock is held.");
        Debug.Assert(_waits.Count == Volatile.Read(ref _attached), "The attached count matches the set.");
    }

    private sealed class Wait(QuiescenceWaits owner)
    {
        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Cancellation;

        /// <summary>The wait's token fired: detach at once, then end canceled.</summary>
        public void Cancel(CancellationToken token)
        {
            owner.Detach(this);
            Completion.TrySetCanceled(token);
        }
    }
}
