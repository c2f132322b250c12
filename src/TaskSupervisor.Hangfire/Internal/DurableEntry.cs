namespace TaskSupervision.Hangfire.Internal;

/// <summary>One durable work item tracked in this process: its stored job, its lease, and whether it is settled.</summary>
internal sealed class DurableEntry(string key, string jobId, DurableCall call, DateTimeOffset leaseEnd, Action<TaskEndedArguments>? userOnEnded)
{
    private int _settled;
    private int _deliveries;
    private long _leaseEndTicks = leaseEnd.UtcTicks;

    public string Key { get; } = key;

    public string JobId { get; } = jobId;

    public DurableCall Call { get; } = call;

    public Action<TaskEndedArguments>? UserOnEnded { get; } = userOnEnded;

    /// <summary>Set when a start with <see cref="KeyConflictBehavior.Replace"/> deleted this entry's job: nothing to hand off.</summary>
    public volatile bool Replaced;

    /// <summary>How many times the work has started in this process.</summary>
    public int Deliveries => Volatile.Read(ref _deliveries);

    public DateTimeOffset LeaseEnd
    {
        get => new(Interlocked.Read(ref _leaseEndTicks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _leaseEndTicks, value.UtcTicks);
    }

    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    private int _leaseLost;

    /// <summary>True the first time the lease is found run out, so that it is logged once.</summary>
    public bool TryMarkLeaseLost() => Interlocked.Exchange(ref _leaseLost, 1) == 0;

    public int NextDelivery() => Interlocked.Increment(ref _deliveries);

    /// <summary>Claims the right to settle the entry (delete or hand off its job); true exactly once.</summary>
    public bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;
}
