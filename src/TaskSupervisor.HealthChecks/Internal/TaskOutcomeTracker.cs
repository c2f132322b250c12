using System.Diagnostics;

namespace TaskSupervision.HealthChecks.Internal;

/// <summary>Counts of task outcomes within the window, as read by <see cref="TaskOutcomeTracker.GetCounts"/>.</summary>
internal readonly record struct OutcomeCounts(long Ended, long Faulted, long GaveUp);

/// <summary>
/// Counts how supervised tasks ended over a sliding window, in a ring of fixed buckets: memory is constant however many
/// tasks end, and recording an outcome is O(1). One tracker serves one health check; it is hooked into the supervisor's
/// <see cref="TaskSupervisorOptions.OnTaskEnded"/>.
/// </summary>
/// <remarks>
/// Bucket <c>i</c> of the ring holds the events of time slot <c>n</c> where <c>n % BucketCount == i</c>; the slot number
/// is stored with the counts so that a bucket left over from an earlier lap is recognised as stale and reset (on write)
/// or skipped (on read), with no timer sweeping the ring.
/// </remarks>
internal sealed class TaskOutcomeTracker
{
    private readonly TimeProvider _timeProvider;
    private readonly long _startTimestamp;
    private readonly long _bucketTicks;

    // All bucket state is behind this one lock: a record touches one bucket, a read sums 60. Nothing else runs under it.
    private readonly Lock _lock = new();
    private readonly Bucket[] _buckets = new Bucket[HealthCheckConstants.BucketCount];
    private long _latestSlot; // guarded by _lock

    public TaskOutcomeTracker(TimeProvider timeProvider, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _startTimestamp = timeProvider.GetTimestamp();
        _bucketTicks = Math.Max(1, window.Ticks / HealthCheckConstants.BucketCount);
        Window = TimeSpan.FromTicks(_bucketTicks * HealthCheckConstants.BucketCount);
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i].Slot = -1;
        }
    }

    /// <summary>The window actually covered: the configured one rounded down to a whole number of buckets.</summary>
    public TimeSpan Window { get; }

    /// <summary>Records one task's end. Called by the supervisor on the thread that ended the task; never throws.</summary>
    public void Record(TaskEndedArguments arguments)
    {
        bool faulted = arguments.Status is SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut;
        lock (_lock)
        {
            // The clock is read under the lock so that slots are stored in order: a slot read before the lock could lag
            // one stored meanwhile by another thread, and would then reset a bucket that holds newer events.
            long slot = CurrentSlot();
            AssertInvariants(slot);
            ref Bucket bucket = ref _buckets[slot % _buckets.Length];
            if (bucket.Slot != slot)
            {
                // The bucket holds a slot from an earlier lap of the ring, already outside the window: start it afresh.
                bucket = new Bucket { Slot = slot };
            }

            bucket.Ended++;
            if (faulted)
            {
                bucket.Faulted++;
            }

            if (arguments.GaveUp)
            {
                bucket.GaveUp++;
            }
        }
    }

    /// <summary>Sums the outcomes recorded within the window ending now.</summary>
    public OutcomeCounts GetCounts()
    {
        long ended = 0, faulted = 0, gaveUp = 0;
        lock (_lock)
        {
            long slot = CurrentSlot();
            long oldest = slot - _buckets.Length + 1;
            AssertInvariants(slot);
            foreach (Bucket bucket in _buckets)
            {
                if (bucket.Slot >= oldest)
                {
                    ended += bucket.Ended;
                    faulted += bucket.Faulted;
                    gaveUp += bucket.GaveUp;
                }
            }
        }

        return new OutcomeCounts(ended, faulted, gaveUp);
    }

    // Under the lock. A clock that goes back (a TimeProvider that is not monotonic) stays in the latest slot: a slot below
    // zero would index the ring below zero, and one that went back would reset a bucket that holds newer outcomes.
    private long CurrentSlot() => _latestSlot = Math.Max(_latestSlot, _timeProvider.GetElapsedTime(_startTimestamp).Ticks / _bucketTicks);

    [Conditional("DEBUG")]
    private void AssertInvariants(long slot)
    {
        // Slots are read under the lock, so none stored is newer than now; a bucket holds only its own slots.
        for (int i = 0; i < _buckets.Length; i++)
        {
            Bucket bucket = _buckets[i];
            Debug.Assert(bucket.Slot == -1 || bucket.Slot % _buckets.Length == i, "A bucket holds a slot of another index.");
            Debug.Assert(bucket.Slot <= slot, "A bucket holds a slot from the future.");
            Debug.Assert(bucket.Faulted <= bucket.Ended && bucket.GaveUp <= bucket.Ended, "A bucket counts more failures than ends.");
        }

    }

    private struct Bucket
    {
        public long Slot;
        public long Ended;
        public long Faulted;
        public long GaveUp;
    }
}
