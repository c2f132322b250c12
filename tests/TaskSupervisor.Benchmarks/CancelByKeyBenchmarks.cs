using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// Scenario 4: cancel-and-await one keyed, running task among <see cref="N"/> long-running ones. Each invocation cancels
/// the next task round-robin, awaits its end, and restarts it so that N stays constant; by the time its turn comes again
/// the restarted task is running. The latency must not grow with N.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class CancelByKeyBenchmarks
{
    private const string Cancel = "4 Cancel one among N";

    private static readonly Func<CancellationToken, Task> s_work = static ct => Task.Delay(Timeout.Infinite, ct);

    private string[] _keys = null!;
    private CancellationTokenSource[] _sources = null!;
    private Task[] _tasks = null!;
    private TaskSupervisor _supervisor = null!;
    private int _next;

    /// <summary>Long-running tasks alive while one is cancelled.</summary>
    [Params(1_000, 100_000)]
    public int N { get; set; }

    [GlobalSetup(Target = nameof(Cancel_Floor_CancelTokenAndAwait))]
    public void SetupRaw()
    {
        _sources = new CancellationTokenSource[N];
        _tasks = new Task[N];
        for (int i = 0; i < N; i++)
        {
            var source = new CancellationTokenSource();
            _sources[i] = source;
            _tasks[i] = Task.Run(() => s_work(source.Token));
        }
    }

    [GlobalSetup(Target = nameof(Cancel_Supervisor_CancelAsyncByKey))]
    public void SetupSupervised()
    {
        _keys = new string[N];
        _supervisor = new TaskSupervisor();
        for (int i = 0; i < N; i++)
        {
            _keys[i] = "session:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _supervisor.Run(_keys[i], s_work);
        }

        _supervisor.WhenIdleAsync(new CancellationTokenSource(TimeSpan.FromMilliseconds(200)).Token)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        if (_supervisor is not null)
        {
            await _supervisor.DisposeAsync();
        }

        if (_sources is not null)
        {
            foreach (CancellationTokenSource source in _sources)
            {
                await source.CancelAsync();
            }

            await Task.WhenAll(_tasks).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The floor: cancel the task's own token, await the task, restart it with a new token.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Cancel)]
    public async Task Cancel_Floor_CancelTokenAndAwait()
    {
        int i = NextIndex();
        CancellationTokenSource source = _sources[i];
        source.Cancel();
        await _tasks[i].ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        source.Dispose();

        var restarted = new CancellationTokenSource();
        _sources[i] = restarted;
        _tasks[i] = Task.Run(() => s_work(restarted.Token));
    }

    /// <summary>The scenario: <c>supervisor.CancelAsync(key, timeout)</c>, then restart the same key.</summary>
    [Benchmark]
    [BenchmarkCategory(Cancel)]
    public async Task Cancel_Supervisor_CancelAsyncByKey()
    {
        string key = _keys[NextIndex()];
        await _supervisor.CancelAsync(key, Timeout.InfiniteTimeSpan);
        _supervisor.Run(key, s_work);
    }

    private int NextIndex()
    {
        int i = _next;
        _next = i + 1 == N ? 0 : i + 1;
        return i;
    }
}
