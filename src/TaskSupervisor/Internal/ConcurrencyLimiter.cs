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
    private readonly SemaphoreSlim? _room;
    private readonly LinkedList<SupervisedTask> _queue = new();
    private int _running;
    private int _queued;

    public ConcurrencyLimiter(int maxRunning, int? maxPending)
    {
        _maxRunning = maxRunning;
        _maxPending = maxPending;
        _room = maxPending is int bound ? new SemaphoreSlim(bound) : null;
    }

    public int Running => Volatile.Read(ref _running);

    public int Pending => Volatile.Read(ref _queued);

    public int MaxPending => _maxPending ?? int.MaxValue;

    public bool IsBounded => _room is not null;

    private object Lock => _queue;

    /// <summary>A run slot if one is free and nobody is queued, else a queue slot if the queue has room, else nothing.</summary>
    public Reservation TryReserve()
    {
        if (Volatile.Read(ref _queued) == 0 && TryTakeRunSlot())
        {
            return Reservation.RunSlot;
        }

        return _room is null || _room.Wait(0) ? Reservation.QueueSlot : Reservation.None;
    }

    /// <summary>Waits for a place in the bounded queue; the caller then holds a <see cref="Reservation.QueueSlot"/>.</summary>
    public Task WaitForQueueSlotAsync(CancellationToken cancellationToken) => _room!.WaitAsync(cancellationToken);

    public void Unreserve(Reservation reservation)
    {
        if (reservation == Reservation.RunSlot)
        {
            ReleaseRunSlot();
        }
        else if (reservation == Reservation.QueueSlot)
        {
            _room?.Release();
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
            Enqueue(task, holdsRoom: _room is not null);
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
            if (task.QueueNode is { } node)
            {
                _queue.Remove(node);
                task.QueueNode = null;
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
    }

    private void Enqueue(SupervisedTask task, bool holdsRoom)
    {
        task.HoldsQueueRoom = holdsRoom;
        lock (Lock)
        {
            AssertInvariants();
            task.QueueNode = _queue.AddLast(task);
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
                    next.QueueNode = null;
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
        if (task.HoldsQueueRoom)
        {
            task.HoldsQueueRoom = false;
            _room!.Release();
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
