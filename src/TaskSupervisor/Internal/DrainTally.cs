namespace TaskSupervision.Internal;

/// <summary>
/// How the tasks a drain counted have ended so far. Written by <see cref="TaskRegistry.Remove"/> under a stripe's lock
/// (different stripes at once, so with atomic increments), read once under every stripe's lock.
/// </summary>
internal sealed class DrainTally
{
    private int _completed;
    private int _canceled;
    private int _faulted;
    private int _timedOut;

    public void Record(SupervisedTaskStatus status)
    {
        switch (status)
        {
            case SupervisedTaskStatus.RanToCompletion:
                Interlocked.Increment(ref _completed);
                break;
            case SupervisedTaskStatus.Canceled:
                Interlocked.Increment(ref _canceled);
                break;
            case SupervisedTaskStatus.TimedOut:
                Interlocked.Increment(ref _timedOut);
                break;
            default:
                Interlocked.Increment(ref _faulted);
                break;
        }
    }

    public Counts Read() => new(Volatile.Read(ref _completed), Volatile.Read(ref _canceled), Volatile.Read(ref _faulted), Volatile.Read(ref _timedOut));

    /// <summary>The outcomes counted so far.</summary>
    internal readonly record struct Counts(int Completed, int Canceled, int Faulted, int TimedOut);
}
