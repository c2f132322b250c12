using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// The hand-written tracker the usual advice leads to: a <see cref="ConcurrentDictionary{TKey, TValue}"/> of running
/// tasks, and a continuation on each that removes its entry and logs its fault.
/// </summary>
/// <typeparam name="TKey">A generated id for unkeyed work, the caller's key for keyed work.</typeparam>
internal sealed class HandWrittenTracker<TKey>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Task> _tasks = new();
    private readonly ILogger _logger = NullLogger.Instance;
    private readonly Action _onEnded;

    /// <param name="onEnded">Called by each task's continuation after it removed its entry: the benchmark's countdown.</param>
    public HandWrittenTracker(Action onEnded) => _onEnded = onEnded;

    public int Count => _tasks.Count;

    /// <summary>Starts <paramref name="work"/> on the thread pool under <paramref name="key"/>; false if the key is taken.</summary>
    public bool TryRun(TKey key, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        Task task = Task.Run(() => work(cancellationToken), cancellationToken);
        if (!_tasks.TryAdd(key, task))
        {
            return false;
        }

        // Registered after the add, so the removal can never run before it.
        _ = task.ContinueWith(
            t =>
            {
                _tasks.TryRemove(new KeyValuePair<TKey, Task>(key, t));
                if (t.IsFaulted)
                {
#pragma warning disable CA1848, CA2254 // The usual advice: a plain LogError call.
                    _logger.LogError(t.Exception, "Background task {Key} failed", key);
#pragma warning restore CA1848, CA2254
                }

                _onEnded();
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        return true;
    }
}

/// <summary>
/// Async-void fire-and-forget with try/catch, as AsyncAwaitBestPractices' <c>SafeFireAndForget</c> does: nothing is
/// tracked, the fault goes to a handler.
/// </summary>
internal static class FireAndForget
{
    /// <param name="task">The work, already started.</param>
    /// <param name="onException">Receives the fault.</param>
    /// <param name="onEnded">The benchmark's countdown: async void cannot be awaited.</param>
#pragma warning disable TS0002 // deliberately async void: it is the point of this baseline
    public static async void SafeFireAndForget(Task task, Action<Exception> onException, Action onEnded)
#pragma warning restore TS0002
    {
        try
        {
            await task.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // SafeFireAndForget catches everything and hands it to the handler.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            onException(ex);
        }
        finally
        {
            onEnded();
        }
    }
}

/// <summary>A reusable countdown: allocates one <see cref="TaskCompletionSource"/> per round, nothing per signal.</summary>
internal sealed class Countdown
{
    private int _remaining;
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts a round of <paramref name="count"/> signals; the returned task completes at the last one.</summary>
    public Task Reset(int count)
    {
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _remaining, count);
        return _done.Task;
    }

    public void Signal()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }
}

/// <summary>
/// A second, long-lived thread that runs one job when asked, so that two threads can start tasks at the same moment
/// without creating a thread per invocation.
/// </summary>
internal sealed class SecondThread : IDisposable
{
    private readonly SemaphoreSlim _go = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private readonly Thread _thread;
    private Action? _job;
    private volatile bool _stopping;

    public SecondThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "benchmark second starter" };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="other"/> on the second thread and <paramref name="mine"/> on this one, and returns when both have.</summary>
    public void RunBoth(Action other, Action mine)
    {
        _job = other;
        _go.Release();
        mine();
        _done.Wait();
    }

    public void Dispose()
    {
        _stopping = true;
        _go.Release();
        _thread.Join();
        _go.Dispose();
        _done.Dispose();
    }

    private void Loop()
    {
        while (true)
        {
            _go.Wait();
            if (_stopping)
            {
                return;
            }

            _job!();
            _done.Release();
        }
    }
}
