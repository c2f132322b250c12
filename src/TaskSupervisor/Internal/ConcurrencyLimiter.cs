using System.Diagnostics;

namespace TaskSupervision.Internal;

/// <summary>What a start holds before its task is admitted: a slot to run now, or a place in the pending queue.</summary>
internal enum Reservation
{
    None = 0,
    RunSlot = 1,
    QueueSlot = 2,
}

/// <summary>
/// At most <c>maxRunning</c> tasks run at once; the rest wait in FIFO order in a queue with an optional bound.
/// </summary>
/// <remarks>
/// Below the limit a start takes no lock: one compare-and-swap on the running count. The queue is guarded by one lock,
/// taken only when the limit is reached or a queued task leaves. Nothing is scheduled and no semaphore is released while
/// the lock is held. The lost-wakeup race between a start that queues and a task that ends is closed by fences on both
/// sides: an enqueue publishes the queue length and then tries for a slot; an ending task frees its slot (a full fence)
/// and then reads the queue length. At least one of them sees the other.
/// </remarks>
internal sealed class ConcurrencyLimiter
{
    private readonly int _maxRunning;
    private readonly int? _maxPending;
    private readonly LinkedList<SupervisedTask> _queue = new();
    private int _running;
    private int _queued;

    // Places of the bounded queue that are held: by queued tasks, and by reservations not yet enqueued.
    private int _queuePlaces;

    // Starts waiting for room (RunAsync) wait on the current signal; whatever frees room completes it, if anyone waits.
    private TaskCompletionSource? _roomSignal;
    private int _roomWaiters;

    public ConcurrencyLimiter(int maxRunning, int? maxPending)
    {
        _maxRunning = maxRunning;
        _maxPending = maxPending;
    }

    public int Pending => Volatile.Read(ref _queued);

    public int MaxPending => _maxPending ?? int.MaxValue;

    private object Lock => _queue;

    /// <summary>A run slot if one is free and nobody is queued, else a queue slot if the queue has room, else nothing.</summary>
    public Reservation TryReserve()
    {
        if (Volatile.Read(ref _queued) == 0 && TryTakeRunSlot())
        {
            return Reservation.RunSlot;
        }

        if (_maxPending is not int bound)
        {
            return Reservation.QueueSlot;
        }

        int places = Volatile.Read(ref _queuePlaces);
        while (places < bound)
        {
            int seen = Interlocked.CompareExchange(ref _queuePlaces, places + 1, places);
            if (seen == places)
            {
                return Reservation.QueueSlot;
            }

            places = seen;
        }

        return Reservation.None;
    }

    /// <summary>
    /// Reserves room, waiting until some frees if there is none: a run slot or a place in the queue, whichever comes first.
    /// </summary>
    /// <param name="isClosed">Whether the supervisor has begun to drain; the wait then ends with <see cref="ObjectDisposedException"/>.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    public async ValueTask<Reservation> ReserveAsync(Func<bool> isClosed, CancellationToken cancellationToken)
    {
        while (true)
        {
            Reservation reservation = TryReserve();
            if (reservation != Reservation.None)
            {
                return reservation;
            }

            Interlocked.Increment(ref _roomWaiters);
            try
            {
                // Take the signal, then try again: room freed after the signal was taken completes it, and room freed
                // before is seen by the second try. No wake-up is lost in between.
                TaskCompletionSource signal = Volatile.Read(ref _roomSignal) ?? CreateSignal();
                reservation = TryReserve();
                if (reservation != Reservation.None)
                {
                    return reservation;
                }

                ObjectDisposedException.ThrowIf(isClosed(), this);
                await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _roomWaiters);
            }

            ObjectDisposedException.ThrowIf(isClosed(), this);
        }
    }

    /// <summary>Wakes every start waiting for room, so that each tries again (or sees that the supervisor is closing).</summary>
    public void SignalRoom()
    {
        if (Volatile.Read(ref _roomWaiters) > 0)
        {
            Interlocked.Exchange(ref _roomSignal, null)?.TrySetResult();
        }
    }

    private TaskCompletionSource CreateSignal()
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref _roomSignal, created, null) ?? created;
    }

    public void Unreserve(Reservation reservation)
    {
        if (reservation == Reservation.RunSlot)
        {
            ReleaseRunSlot();
        }
        else if (reservation == Reservation.QueueSlot)
        {
            ReturnQueuePlace();
        }
    }

    public void Dispatch(SupervisedTask task, Reservation reservation)
    {
        Debug.Assert(reservation != Reservation.None, "A dispatch holds a reservation.");
        if (reservation == Reservation.RunSlot)
        {
            task.HoldsRunSlot = true;
            task.Schedule();
        }
        else
        {
            Enqueue(task, holdsRoom: _maxPending is not null);
        }
    }

    /// <summary>Dispatches a task that was admitted earlier (a replacement whose predecessor ended): it never counts against the queue's bound.</summary>
    public void DispatchAdmitted(SupervisedTask task)
    {
        if (Volatile.Read(ref _queued) == 0 && TryTakeRunSlot())
        {
            task.HoldsRunSlot = true;
            task.Schedule();
        }
        else
        {
            Enqueue(task, holdsRoom: false);
        }
    }

    /// <summary>A queued task was cancelled: take it out of the queue and let it end without running.</summary>
    public void Remove(SupervisedTask task)
    {
        bool removed = false;
        lock (Lock)
        {
            AssertInvariants();
            if (task.Extras.QueueNode is { } node)
            {
                _queue.Remove(node);
                task.Extras.QueueNode = null;
                Volatile.Write(ref _queued, _queue.Count);
                removed = true;
            }
        }

        if (removed)
        {
            ReturnRoom(task);
            task.Schedule(); // it sees its cancellation and ends as canceled, without running
        }
    }

    public void ReleaseRunSlot()
    {
        Interlocked.Decrement(ref _running);
        if (Volatile.Read(ref _queued) > 0)
        {
            Pump();
        }

        SignalRoom();
    }

    private void Enqueue(SupervisedTask task, bool holdsRoom)
    {
        task.Extras.HoldsQueueRoom = holdsRoom;
        lock (Lock)
        {
            AssertInvariants();
            task.Extras.QueueNode = _queue.AddLast(task);
            Volatile.Write(ref _queued, _queue.Count);
        }

        // Outside the lock: if the task is already cancelled the registration runs Remove at once.
        task.RemoveFromQueueWhenCancelled(this);
        Pump();
    }

    /// <summary>Starts queued tasks, oldest first, while run slots are free.</summary>
    private void Pump()
    {
        while (true)
        {
            SupervisedTask? next = null;
            lock (Lock)
            {
                AssertInvariants();
                if (_queue.First is { } node && TryTakeRunSlot())
                {
                    _queue.RemoveFirst();
                    next = node.Value;
                    next.Extras.QueueNode = null;
                    Volatile.Write(ref _queued, _queue.Count);
                }
            }

            if (next is null)
            {
                return;
            }

            next.HoldsRunSlot = true;
            ReturnRoom(next);
            next.Schedule();
        }
    }

    private void ReturnRoom(SupervisedTask task)
    {
        if (task.Extras.HoldsQueueRoom)
        {
            task.Extras.HoldsQueueRoom = false;
            ReturnQueuePlace();
        }
    }

    private void ReturnQueuePlace()
    {
        if (_maxPending is not null)
        {
            Interlocked.Decrement(ref _queuePlaces);
            SignalRoom();
        }
    }

    private bool TryTakeRunSlot()
    {
        int running = Volatile.Read(ref _running);
        while (running < _maxRunning)
        {
            int seen = Interlocked.CompareExchange(ref _running, running + 1, running);
            if (seen == running)
            {
                return true;
            }

            running = seen;
        }

        return false;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(Lock), "The queue's lock is held.");
        Debug.Assert(_queued == _queue.Count, "The published queue length matches the queue.");
    }
}
