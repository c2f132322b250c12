using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// Scenario 3: 100,000 long-running keyed tasks, each awaiting its token, are started in <c>IterationSetup</c> (not
/// measured); the benchmark measures only the drain. The floor cancels the same kind of tokens and awaits the same
/// tasks with <c>Task.WhenAll</c>. <c>IterationSetup</c> makes every iteration a single invocation.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class DrainBenchmarks
{
    /// <summary>Long-running tasks drained per invocation.</summary>
    public const int N = 100_000;

    private const string Drain = "3 Drain 100,000";

    private readonly Func<CancellationToken, Task> _work;
    private string[] _keys = null!;
    private CancellationTokenSource[] _sources = null!;
    private Task[] _tasks = null!;
    private TaskSupervisor? _supervisor;
    private int _started;
    private TaskCompletionSource _allStarted = new();

    public DrainBenchmarks()
    {
        // The work each task runs in both rows: it counts its start (so setup can wait for all) and awaits its token.
        _work = ct =>
        {
            if (Interlocked.Increment(ref _started) == N)
            {
                _allStarted.TrySetResult();
            }

            return Work == DrainWork.AsyncMethod ? AwaitCancellation(ct) : Task.Delay(Timeout.Infinite, ct);
        };
    }

    /// <summary>What each drained task runs.</summary>
    public enum DrainWork
    {
        /// <summary>
        /// An async method that awaits a delay on its token and returns when cancelled (no exception): what supervised
        /// work looks like. Its continuation after the delay runs on the thread pool in both rows.
        /// </summary>
        AsyncMethod,

        /// <summary>
        /// Diagnostic: <c>Task.Delay(Timeout.Infinite, ct)</c> returned directly. A delay's continuations always run
        /// asynchronously, so whatever observes each task on its own (the supervisor, a tracker, an <c>await</c> per
        /// task) pays one thread-pool hop per task that <c>Task.WhenAll</c> alone avoids through an internal path.
        /// </summary>
        DelayTask,
    }

    /// <summary>The work of each task; see <see cref="DrainWork"/>.</summary>
    [Params(DrainWork.AsyncMethod, DrainWork.DelayTask)]
    public DrainWork Work { get; set; }

    private static async Task AwaitCancellation(CancellationToken ct) =>
        await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    [GlobalSetup]
    public void Setup()
    {
        _keys = new string[N];
        for (int i = 0; i < N; i++)
        {
            _keys[i] = "session:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [IterationSetup(Target = nameof(Drain_Floor_CancelTokensAndWhenAll))]
    public void StartRaw()
    {
        ResetStarted();
        _sources = new CancellationTokenSource[N];
        _tasks = new Task[N];
        for (int i = 0; i < N; i++)
        {
            _sources[i] = new CancellationTokenSource();
            _tasks[i] = _work(_sources[i].Token);
        }

        _allStarted.Task.GetAwaiter().GetResult();
    }

    [IterationSetup(Target = nameof(Drain_Supervisor_DisposeAsync))]
    public void StartSupervised()
    {
        ResetStarted();
        _supervisor = new TaskSupervisor();
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(_keys[i], _work);
        }

        // Every work delegate has run: the tasks are awaiting their tokens, not pending on the thread pool.
        _allStarted.Task.GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void Forget()
    {
        if (_sources is not null)
        {
            foreach (CancellationTokenSource source in _sources)
            {
                source.Dispose();
            }
        }

        _sources = null!;
        _tasks = null!;
        _supervisor = null;
    }

    /// <summary>The floor: cancel every token, then <c>Task.WhenAll</c> on the same tasks.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    [BenchmarkCategory(Drain)]
    public async Task Drain_Floor_CancelTokensAndWhenAll()
    {
        foreach (CancellationTokenSource source in _sources)
        {
            source.Cancel();
        }

        await Task.WhenAll(_tasks).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>The scenario: <c>DisposeAsync</c> cancels every tracked task and waits until all have ended.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Drain)]
    public async Task Drain_Supervisor_DisposeAsync()
    {
        await _supervisor!.DisposeAsync();
    }

    private void ResetStarted()
    {
        _started = 0;
        _allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
