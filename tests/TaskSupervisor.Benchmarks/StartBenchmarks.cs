using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// Scenarios 1 and 2: start 10,000 trivial tasks, unkeyed or each under its own key, and wait until all have ended.
/// Every row is per task (<c>OperationsPerInvoke</c>); the baseline of each category is a raw <see cref="Task.Run(Action)"/>
/// of the same delegate.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class StartBenchmarks
{
    /// <summary>Tasks started per invocation.</summary>
    public const int N = 10_000;

    private const string Unkeyed = "1 Unkeyed";
    private const string Keyed = "2 Keyed";
    private const string Yielding = "7 Yielding";

    private static readonly Func<CancellationToken, Task> s_work = static _ => Task.CompletedTask;
    private static readonly Func<CancellationToken, Task> s_yield = static async _ => await Task.Yield();

    private readonly Countdown _countdown = new();
    private readonly Task[] _tasks = new Task[N];
    private string[] _keys = null!;
    private Action _rawAction = null!;
    private Func<Task> _rawFunc = null!;
    private Func<Task> _rawYield = null!;
    private Action<Exception> _onException = null!;
    private Action _signal = null!;
    private TaskSupervisor _supervisor = null!;
    private TaskSupervisor _configured = null!;
    private TaskOptions _namedOptions = null!;
    private HandWrittenTracker<long> _tracker = null!;
    private HandWrittenTracker<string> _keyedTracker = null!;
    private long _nextId;

    [GlobalSetup]
    public void Setup()
    {
        // Keys are formatted here, once, so that string formatting is not measured.
        _keys = new string[N];
        for (int i = 0; i < N; i++)
        {
            _keys[i] = "task:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        Func<CancellationToken, Task> work = s_work;
#pragma warning disable TS0003 // the raw fire-and-forget baseline drops its task on purpose
        _rawAction = () => work(CancellationToken.None);
#pragma warning restore TS0003
        _rawFunc = () => work(CancellationToken.None);
        _rawYield = () => s_yield(CancellationToken.None);
        _onException = static _ => { };
        _signal = _countdown.Signal;
        _supervisor = new TaskSupervisor();
        _configured = new TaskSupervisor(new TaskSupervisorOptions { OnTaskEnded = static _ => { } });
        _namedOptions = new TaskOptions { Name = "benchmark" };
        _tracker = new HandWrittenTracker<long>(_signal);
        _keyedTracker = new HandWrittenTracker<string>(_signal);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _supervisor.DisposeAsync();
        await _configured.DisposeAsync();
    }

    // ---- 1. Unkeyed --------------------------------------------------------------------------------------------

    /// <summary>The floor: <c>Task.Run(Action)</c> of the same delegate, then <c>Task.WhenAll</c>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public Task Unkeyed_RawTaskRun()
    {
        for (int i = 0; i < N; i++)
        {
            _tasks[i] = Task.Run(_rawAction);
        }

        return Task.WhenAll(_tasks);
    }

    /// <summary>
    /// Diagnostic, nothing started: one read of the system clock per task, what a supervised start pays for its precise
    /// <see cref="SupervisedTask.StartedAt"/> (and the elapsed time of its end), against the same baseline.
    /// </summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public long Unkeyed_ClockReadOnly()
    {
        TimeProvider clock = TimeProvider.System;
        long sum = 0;
        for (int i = 0; i < N; i++)
        {
            sum += clock.GetTimestamp();
        }

        return sum;
    }

    /// <summary><c>Task.Run(Func&lt;Task&gt;)</c>, what async work is usually started with (it unwraps a proxy task).</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public Task Unkeyed_RawTaskRunAsync()
    {
        for (int i = 0; i < N; i++)
        {
            _tasks[i] = Task.Run(_rawFunc);
        }

        return Task.WhenAll(_tasks);
    }

    /// <summary>A <c>ConcurrentDictionary</c> of tasks and a continuation that removes the entry and logs the fault.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public Task Unkeyed_HandWrittenTracker()
    {
        Task idle = _countdown.Reset(N);
        for (int i = 0; i < N; i++)
        {
            _tracker.TryRun(++_nextId, s_work, CancellationToken.None);
        }

        return idle;
    }

    /// <summary>Async void with try/catch (SafeFireAndForget) around <c>Task.Run</c> of the same delegate; a countdown waits.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public Task Unkeyed_AsyncVoidSafeFireAndForget()
    {
        Task idle = _countdown.Reset(N);
        for (int i = 0; i < N; i++)
        {
            FireAndForget.SafeFireAndForget(Task.Run(_rawFunc), _onException, _signal);
        }

        return idle;
    }

    /// <summary>The scenario: <c>supervisor.Run(work)</c> N times, then <c>WhenIdleAsync()</c>.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public Task Unkeyed_Supervisor()
    {
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(s_work);
        }

        return _supervisor.WhenIdleAsync();
    }

    /// <summary>Diagnostic: the same starts, waited for by a countdown in the work instead of <c>WhenIdleAsync</c>.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public async Task Unkeyed_Supervisor_CountdownNotWhenIdle()
    {
        Task idle = _countdown.Reset(N);
        Func<CancellationToken, Task> work = _ =>
        {
            _countdown.Signal();
            return Task.CompletedTask;
        };
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(work);
        }

        await idle;

        // The last few tasks may still be finishing their bookkeeping: let them, outside the hot loop.
        await _supervisor.WhenIdleAsync();
    }

    /// <summary>Diagnostic: with the optional settings used (a shared named <c>TaskOptions</c>, an <c>OnTaskEnded</c>).</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Unkeyed)]
    public Task Unkeyed_Supervisor_WithOptions()
    {
        for (int i = 0; i < N; i++)
        {
            _configured.Run(s_work, _namedOptions);
        }

        return _configured.WhenIdleAsync();
    }

    // ---- 2. Keyed ----------------------------------------------------------------------------------------------

    /// <summary>The floor, as in the unkeyed category (a raw task has no key).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    [BenchmarkCategory(Keyed)]
    public Task Keyed_RawTaskRun()
    {
        for (int i = 0; i < N; i++)
        {
            _tasks[i] = Task.Run(_rawAction);
        }

        return Task.WhenAll(_tasks);
    }

    /// <summary>The hand-written tracker keyed by the caller's key (<c>TryAdd</c> rejects a running key).</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Keyed)]
    public Task Keyed_HandWrittenTracker()
    {
        Task idle = _countdown.Reset(N);
        string[] keys = _keys;
        for (int i = 0; i < N; i++)
        {
            _keyedTracker.TryRun(keys[i], s_work, CancellationToken.None);
        }

        return idle;
    }

    /// <summary>The scenario: <c>supervisor.Run(key, work)</c> with a distinct key per task, then <c>WhenIdleAsync()</c>.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Keyed)]
    public Task Keyed_Supervisor()
    {
        string[] keys = _keys;
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(keys[i], s_work);
        }

        return _supervisor.WhenIdleAsync();
    }

    // ---- 7. Work that yields once ------------------------------------------------------------------------------

    /// <summary>The floor for work that awaits once (<c>await Task.Yield()</c>): <c>Task.Run(Func&lt;Task&gt;)</c>, then <c>Task.WhenAll</c>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    [BenchmarkCategory(Yielding)]
    public Task Yielding_RawTaskRun()
    {
        for (int i = 0; i < N; i++)
        {
            _tasks[i] = Task.Run(_rawYield);
        }

        return Task.WhenAll(_tasks);
    }

    /// <summary>The scenario: <c>supervisor.Run(work)</c> of work that yields once, then <c>WhenIdleAsync()</c>.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Yielding)]
    public Task Yielding_Supervisor_Unkeyed()
    {
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(s_yield);
        }

        return _supervisor.WhenIdleAsync();
    }

    /// <summary>The same, each task under its own key.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory(Yielding)]
    public Task Yielding_Supervisor_Keyed()
    {
        string[] keys = _keys;
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(keys[i], s_yield);
        }

        return _supervisor.WhenIdleAsync();
    }
}
