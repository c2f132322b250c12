using System.Collections.Concurrent;
using TaskSupervision;

namespace PitfallsDemo.Support;

/// <summary>A count that can be awaited, so that the tour and the tests wait on a signal instead of sleeping.</summary>
internal sealed class SignalingCounter
{
    private readonly Lock _lock = new();
    private int _value;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Value
    {
        get
        {
            lock (_lock)
            {
                return _value;
            }
        }
    }

    public void Increment() => Add(1);

    public void Decrement() => Add(-1);

    /// <summary>Completes when the value satisfies <paramref name="condition"/>; bound it with <c>WaitAsync(timeout)</c>.</summary>
    public async Task WaitUntilAsync(Func<int, bool> condition, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(_value))
                {
                    return;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Add(int delta)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _value += delta;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        // Completed outside the lock: a waiter's continuation never runs while it is held.
        changed.TrySetResult();
    }
}

/// <summary>One job that failed in the background, as the fault callback recorded it.</summary>
internal sealed record FailedJob(string? Key, string? Name, string Error, double ElapsedMs);

/// <summary>
/// The fixed side's "dead-letter queue": an in-memory list of failed background jobs, filled by the supervisor's
/// <see cref="TaskSupervisorOptions.OnTaskEnded"/> callback. Bounded, like anything a long-lived service keeps.
/// </summary>
internal sealed class FailedJobs
{
    private const int Capacity = 100;
    private readonly ConcurrentQueue<FailedJob> _jobs = new();

    public int Count => _jobs.Count;

    public IReadOnlyList<FailedJob> Snapshot() => [.. _jobs];

    public void Record(TaskEndedArguments ended)
    {
        if (ended.Status != SupervisedTaskStatus.Faulted)
        {
            return;
        }

        _jobs.Enqueue(new FailedJob(ended.Key, ended.Name, ended.Exception!.Message, Math.Round(ended.Elapsed.TotalMilliseconds)));
        while (_jobs.Count > Capacity && _jobs.TryDequeue(out _))
        {
        }
    }
}

/// <summary>The cleanups the fixed session monitors ran (their <c>finally</c> blocks), in order.</summary>
internal sealed class MonitorCleanups
{
    private readonly ConcurrentQueue<string> _sessions = new();

    public SignalingCounter Count { get; } = new();

    public IReadOnlyList<string> Sessions => [.. _sessions];

    public void Record(string session)
    {
        _sessions.Enqueue(session);
        Count.Increment();
    }
}
