namespace TaskSupervision.Internal;

/// <summary>
/// Counts a task's restarts within the sliding window of its <see cref="RestartPolicy"/>, in memory that does not grow
/// with <see cref="RestartPolicy.MaxRestarts"/>.
/// </summary>
/// <remarks>
/// Up to <see cref="ExactLimit"/> allowed restarts, the time of each is kept in a ring and the count is exact. Above it
/// (<c>MaxRestarts = int.MaxValue</c> is a natural way to say "never give up"), the window is divided into
/// <see cref="Buckets"/> buckets that each count the restarts of their slice of time, so the count is exact to within one
/// slice (1/64 of the window) at its old edge. Used by one attempt at a time, never concurrently.
/// </remarks>
internal sealed class RestartWindow
{
    /// <summary>The largest <see cref="RestartPolicy.MaxRestarts"/> counted exactly.</summary>
    public const int ExactLimit = 64;

    /// <summary>The slices of the window when counting by slices.</summary>
    public const int Buckets = 64;

    private readonly TimeSpan _window;
    private readonly int _maxRestarts;

    // Exact: the times of the last MaxRestarts restarts (0 = unused); the next slot to overwrite is the oldest.
    private readonly long[]? _times;
    private int _next;

    // By slices: the number of the slice each bucket counts, and its count.
    private readonly long[]? _sliceOf;
    private readonly int[]? _counts;
    private readonly long _sliceTicks;
    private readonly long _epoch;
    private long _latestSlice;

    /// <summary>Creates the window of a task's first restart, at <paramref name="firstRestart"/>.</summary>
    /// <param name="policy">The task's restart policy.</param>
    /// <param name="firstRestart">
    /// The timestamp of the first restart, which the first <see cref="TryRecord"/> is given: the slices count from it, so
    /// that no restart can fall before the first slice because the clock was read again here, later.
    /// </param>
    public RestartWindow(RestartPolicy policy, long firstRestart)
    {
        _window = policy.Window;
        _maxRestarts = policy.MaxRestarts;
        if (_maxRestarts <= ExactLimit)
        {
            _times = new long[_maxRestarts];
        }
        else
        {
            _sliceOf = new long[Buckets];
            _counts = new int[Buckets];
            _sliceTicks = Math.Max(1, policy.Window.Ticks / Buckets);
            _epoch = firstRestart;
            Array.Fill(_sliceOf, -1);
        }
    }

    /// <summary>Records a restart at <paramref name="now"/> if one more is allowed within the window.</summary>
    /// <returns>The number of restarts within the window, this one included; 0 when the limit is reached (give up).</returns>
    public int TryRecord(long now, TimeProvider time) => _times is not null ? TryRecordExact(now, time) : TryRecordBySlice(now, time);

    private int TryRecordExact(long now, TimeProvider time)
    {
        long[] times = _times!;
        int inWindow = 0;
        foreach (long at in times)
        {
            if (at != 0 && time.GetElapsedTime(at, now) < _window)
            {
                inWindow++;
            }
        }

        if (inWindow >= _maxRestarts)
        {
            return 0;
        }

        times[_next] = now == 0 ? 1 : now;
        _next = (_next + 1) % times.Length;
        return inWindow + 1;
    }

    private int TryRecordBySlice(long now, TimeProvider time)
    {
        // A time before the latest slice (a TimeProvider that is not monotonic) counts in the latest: a slice below zero
        // would index the buckets below zero, and one that went back would reset a bucket that holds newer restarts.
        long slice = _latestSlice = Math.Max(_latestSlice, time.GetElapsedTime(_epoch, now).Ticks / _sliceTicks);
        long oldest = slice - Buckets + 1;
        long inWindow = 0;
        for (int i = 0; i < Buckets; i++)
        {
            if (_sliceOf![i] >= oldest)
            {
                inWindow += _counts![i];
            }
        }

        if (inWindow >= _maxRestarts)
        {
            return 0;
        }

        int bucket = (int)(slice % Buckets);
        if (_sliceOf![bucket] != slice)
        {
            _sliceOf[bucket] = slice;
            _counts![bucket] = 0;
        }

        _counts![bucket]++;
        return (int)Math.Min(int.MaxValue, inWindow + 1);
    }
}
