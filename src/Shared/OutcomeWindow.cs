using System.Diagnostics;

namespace TaskSupervision.Internal;

/// <summary>Counts of how tasks ended within the recent window, as read by <see cref="OutcomeWindow.GetCounts"/>.</summary>
internal readonly record struct OutcomeCounts(long Completed, long Canceled, long Faulted, long TimedOut, long GaveUp)
{
    /// <summary>Every task that ended, however it ended.</summary>
    public long Ended => Completed + Canceled + Faulted + TimedOut;

    /// <summary>The tasks that failed: faulted or timed out.</summary>
    public long Failed => Faulted + TimedOut;
}

/// <summary>
/// Counts how one supervisor's tasks ended over a sliding window, in a ring of <see cref="BucketCount"/> fixed buckets:
/// memory is constant however many tasks end, recording an outcome is O(1) under one lock, and an outcome leaves the
/// window at most one bucket (<c>window / BucketCount</c>) late.
/// </summary>
/// <remarks>
/// <para>Bucket <c>i</c> holds the outcomes of time slot <c>n</c> where <c>n % BucketCount == i</c>; the slot number is
/// stored with the counts, so that a bucket left over from an earlier lap of the ring is recognised as stale and reset (on
/// write) or skipped (on read), with no timer sweeping the ring.</para>
/// <para>One source file compiled into the two packages that count outcomes (the health check and the dashboard), each
/// as an internal type of its own: neither depends on the other, nor on the core's internals for it.</para>
/// </remarks>
internal sealed class OutcomeWindow
{
    /// <summary>The buckets the window is divided into.</summary>
    public const int BucketCount = 60;

    private readonly TimeProvider _timeProvider;
    private readonly long _startTimestamp;
    private readonly long _bucketTicks;

    // All bucket state is behind this one lock: a record touches one bucket, a read sums them all. Nothing else runs under it.
    private readonly Lock _lock = new();
    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private long _latestSlot; // guarded by _lock

    public OutcomeWindow(TimeProvider timeProvider, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _startTimestamp = timeProvider.GetTimestamp();
        _bucketTicks = Math.Max(1, window.Ticks / BucketCount);
        Window = TimeSpan.FromTicks(_bucketTicks * BucketCount);
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i].Slot = -1;
        }
    }

    /// <summary>The window actually covered: the configured one rounded down to a whole number of buckets.</summary>
    public TimeSpan Window { get; }

    /// <summary>Records one task's end; fits <see cref="TaskSupervisorOptions.OnTaskEnded"/>. Never throws.</summary>
    public void Record(TaskEndedArguments arguments) => Record(arguments.Status, arguments.GaveUp);

    /// <summary>Records one task's end. Never throws.</summary>
    public void Record(SupervisedTaskStatus status, bool gaveUp)
    {
        lock (_lock)
        {
            // The clock is read under the lock so that slots are stored in order: a slot read before the lock could lag one
            // stored meanwhile by another thread, and would then reset a bucket that holds newer outcomes.
            long slot = CurrentSlot();
            AssertInvariants(slot);
            ref Bucket bucket = ref _buckets[slot % _buckets.Length];
            if (bucket.Slot != slot)
            {
                // The bucket holds a slot from an earlier lap of the ring, already outside the window: start it afresh.
                bucket = new Bucket { Slot = slot };
            }

            switch (status)
            {
                case SupervisedTaskStatus.RanToCompletion: bucket.Completed++; break;
                case SupervisedTaskStatus.Canceled: bucket.Canceled++; break;
                case SupervisedTaskStatus.TimedOut: bucket.TimedOut++; break;
                default: bucket.Faulted++; break;
            }

            if (gaveUp)
            {
                bucket.GaveUp++;
            }
        }
    }

    /// <summary>Sums the outcomes recorded within the window ending now.</summary>
    public OutcomeCounts GetCounts()
    {
        long completed = 0, canceled = 0, faulted = 0, timedOut = 0, gaveUp = 0;
        lock (_lock)
        {
            long slot = CurrentSlot();
            long oldest = slot - _buckets.Length + 1;
            AssertInvariants(slot);
            foreach (Bucket bucket in _buckets)
            {
                if (bucket.Slot >= oldest)
                {
                    completed += bucket.Completed;
                    canceled += bucket.Canceled;
                    faulted += bucket.Faulted;
                    timedOut += bucket.TimedOut;
                    gaveUp += bucket.GaveUp;
                }
            }
        }

        return new OutcomeCounts(completed, canceled, faulted, timedOut, gaveUp);
    }

    // Under the lock. A clock that goes back (a TimeProvider that is not monotonic) stays in the latest slot: a slot below
    // zero would index the ring below zero, and one that went back would reset a bucket that holds newer outcomes.
    private long CurrentSlot() => _latestSlot = Math.Max(_latestSlot, _timeProvider.GetElapsedTime(_startTimestamp).Ticks / _bucketTicks);

    [Conditional("DEBUG")]
    private void AssertInvariants(long slot)
    {
        for (int i = 0; i < _buckets.Length; i++)
        {
            Debug.Assert(_buckets[i].Slot == -1 || _buckets[i].Slot % _buckets.Length == i, "A bucket holds a slot of another index.");
            Debug.Assert(_buckets[i].Slot <= slot, "A bucket holds a slot from the future.");
            Debug.Assert(_buckets[i].GaveUp <= _buckets[i].Faulted + _buckets[i].TimedOut, "A bucket counts more give-ups than failures.");
        }
    }

    private struct Bucket
    {
        public long Slot;
        public long Completed;
        public long Canceled;
        public long Faulted;
        public long TimedOut;
        public long GaveUp;
    }
}
