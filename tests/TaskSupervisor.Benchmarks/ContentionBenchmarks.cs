using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// Scenario 5: two threads start 5,000 tasks each at the same moment (contention on the start path), then all 10,000
/// are waited for. Rows are per task; the baseline is raw <see cref="Task.Run(Action)"/> from the same two threads.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ContentionBenchmarks
{
    /// <summary>Tasks started per invocation, half by each thread.</summary>
    public const int N = 10_000;

    private const int Half = N / 2;
    private const string TwoThreads = "5 Two starting threads";

    private static readonly Func<CancellationToken, Task> s_work = static _ => Task.CompletedTask;

    private readonly Task[] _tasks = new Task[N];
    private readonly Countdown _countdown = new();
    private SecondThread _second = null!;
    private TaskSupervisor _supervisor = null!;
    private HandWrittenTracker<long> _tracker = null!;
    private string[] _keys = null!;
    private Action _rawAction = null!;
    private Action _rawFirst = null!, _rawSecond = null!;
    private Action _trackerFirst = null!, _trackerSecond = null!;
    private Action _unkeyedFirst = null!, _unkeyedSecond = null!;
    private Action _keyedFirst = null!, _keyedSecond = null!;
    private long _nextIdFirst, _nextIdSecond = long.MaxValue / 2;

    [GlobalSetup]
    public void Setup()
    {
        _keys = new string[N];
        for (int i = 0; i < N; i++)
        {
            _keys[i] = "task:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        _second = new SecondThread();
        _supervisor = new TaskSupervisor();
        _tracker = new HandWrittenTracker<long>(_countdown.Signal);
        Func<CancellationToken, Task> work = s_work;
#pragma warning disable TS0003 // the raw fire-and-forget baseline drops its task on purpose
        _rawAction = () => work(CancellationToken.None);
#pragma warning restore TS0003

        // The delegates each thread runs are built once, so that no closure is allocated per invocation.
        _rawFirst = () => StartRaw(0);
        _rawSecond = () => StartRaw(Half);
        _trackerFirst = () => StartTracked(ref _nextIdFirst);
        _trackerSecond = () => StartTracked(ref _nextIdSecond);
        _unkeyedFirst = StartUnkeyed;
        _unkeyedSecond = StartUnkeyed;
        _keyedFirst = () => StartKeyed(0);
        _keyedSecond = () => StartKeyed(Half);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _second.Dispose();
        await _supervisor.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    [BenchmarkCategory(TwoThreads)]
    public Task TwoThreads_RawTaskRun()
    {
        _second.RunBoth(_rawSecond, _rawFirst);
        return Task.WhenAll(_tasks);
    }

    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(TwoThreads)]
    public Task TwoThreads_HandWrittenTracker()
    {
        Task idle = _countdown.Reset(N);
        _second.RunBoth(_trackerSecond, _trackerFirst);
        return idle;
    }

    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(TwoThreads)]
    public Task TwoThreads_Supervisor_Unkeyed()
    {
        _second.RunBoth(_unkeyedSecond, _unkeyedFirst);
        return _supervisor.WhenIdleAsync();
    }

    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(TwoThreads)]
    public Task TwoThreads_Supervisor_Keyed()
    {
        _second.RunBoth(_keyedSecond, _keyedFirst);
        return _supervisor.WhenIdleAsync();
    }

    private void StartRaw(int from)
    {
        for (int i = from; i < from + Half; i++)
        {
            _tasks[i] = Task.Run(_rawAction);
        }
    }

    private void StartTracked(ref long nextId)
    {
        for (int i = 0; i < Half; i++)
        {
            _tracker.TryRun(++nextId, s_work, CancellationToken.None);
        }
    }

    private void StartUnkeyed()
    {
        for (int i = 0; i < Half; i++)
        {
            _supervisor.Run(s_work);
        }
    }

    private void StartKeyed(int from)
    {
        string[] keys = _keys;
        for (int i = from; i < from + Half; i++)
        {
            _supervisor.Run(keys[i], s_work);
        }
    }
}
