using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// A console driver for load-independent profiles of the start path (<c>-- --profile-start MODE ROUNDS</c>): it warms
/// the path up, then starts <see cref="Batch"/> trivial tasks <c>ROUNDS</c> times and waits for each batch, exactly as
/// <see cref="StartBenchmarks"/> does. Run under <c>valgrind --tool=callgrind</c> twice, with ROUNDS = 0 and ROUNDS = R:
/// the difference of the instruction counts divided by <c>R × Batch</c> is the cost of one task, whatever the machine's
/// load. <c>profile-start.sh</c> beside this file does exactly that.
/// </summary>
internal static class StartProfile
{
    /// <summary>Tasks per batch (the benchmarks use 10,000; a smaller batch keeps a valgrind run short).</summary>
    public const int Batch = 1_000;

    /// <summary>Tasks per round of the interleaved probe: as many as a <see cref="StartBenchmarks"/> invocation.</summary>
    public const int InterleavedBatch = StartBenchmarks.N;

    private const int WarmupRounds = 40;

    private static readonly Func<CancellationToken, Task> s_work = static _ => Task.CompletedTask;
    private static readonly Func<CancellationToken, Task> s_yield = static async _ => await Task.Yield();

    /// <summary>The modes: what one task of a round is.</summary>
    public static readonly IReadOnlyList<string> Modes =
        ["raw", "raw-yield", "unkeyed", "unkeyed-yield", "keyed", "tracker", "unkeyed-options", "unkeyed-two-threads", "raw-two-threads"];

    /// <summary>Runs one mode; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        if (args.Length < 3 || !Modes.Contains(args[1]) || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out int rounds))
        {
            Console.Error.WriteLine($"usage: --profile-start <{string.Join('|', Modes)}> <rounds>");
            return 2;
        }

        string mode = args[1];
        var driver = new Driver(mode);
        for (int i = 0; i < WarmupRounds; i++)
        {
            driver.Round();
        }

        // Under valgrind, profile-start.py passes a tiny native library whose two functions are callgrind's client
        // requests: the counters are zeroed here and dumped after the measured rounds, so that neither the runtime's
        // start, nor the JIT, nor the warm-up, nor the exit is counted.
        ProfileControl? control = ProfileControl.Load(Environment.GetEnvironmentVariable("TS_PROFILE_CONTROL"));
        if (control is not null)
        {
            // Lets the background JIT finish the tier-1 code of the warmed-up methods before counting starts: until a
            // round and a pause compile nothing new (at most a minute; valgrind runs everything 20-50 times slower).
            long deadline = Environment.TickCount64 + 60_000;
            long compiled;
            do
            {
                compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
                Thread.Sleep(TimeSpan.FromSeconds(2));
                driver.Round();
            }
            while (System.Runtime.JitInfo.GetCompiledMethodCount() != compiled && Environment.TickCount64 < deadline);
        }

        control?.Begin();
        long before = Stopwatch.GetTimestamp();
        for (int i = 0; i < rounds; i++)
        {
            driver.Round();
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(before);
        control?.End();
        driver.Dispose();
        Console.WriteLine(FormattableString.Invariant(
            $"{mode}: {rounds} x {Batch} tasks, {(rounds == 0 ? 0 : elapsed.TotalNanoseconds / (rounds * Batch)):F0} ns/task wall (load-dependent)"));
        return 0;
    }

    /// <summary>
    /// The interleaved probe (<c>-- --interleaved-start ROUNDS</c>): one round (<see cref="InterleavedBatch"/> tasks) of each of raw, unkeyed, keyed, raw-yield
    /// and unkeyed-yield after another, <c>ROUNDS</c> times, each timed; prints for each supervised mode the median over
    /// rounds of its time divided by the raw round next to it. A quick, load-tolerant comparison while changing the start
    /// path (a machine's load moves both rounds of a pair alike); the figures of record are BenchmarkDotNet's.
    /// </summary>
    public static int RunInterleaved(string[] args)
    {
        if (args.Length < 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int rounds) || rounds < 1)
        {
            Console.Error.WriteLine("usage: --interleaved-start <rounds>");
            return 2;
        }

        (string Mode, string Baseline)[] pairs = [("unkeyed", "raw"), ("keyed", "raw"), ("unkeyed-yield", "raw-yield")];
        string[] modes = ["raw", "unkeyed", "keyed", "raw-yield", "unkeyed-yield"];
        var drivers = modes.ToDictionary(m => m, m => new Driver(m, InterleavedBatch));
        var times = modes.ToDictionary(m => m, _ => new double[rounds]);
        for (int i = 0; i < WarmupRounds; i++)
        {
            foreach (Driver driver in drivers.Values)
            {
                driver.Round();
            }
        }

        for (int r = 0; r < rounds; r++)
        {
            foreach (string mode in modes)
            {
                long before = Stopwatch.GetTimestamp();
                drivers[mode].Round();
                times[mode][r] = Stopwatch.GetElapsedTime(before).TotalNanoseconds / InterleavedBatch;
            }
        }

        foreach ((string mode, string baseline) in pairs)
        {
            double[] ratios = [.. times[mode].Zip(times[baseline], (a, b) => a / b)];
            Console.WriteLine(FormattableString.Invariant(
                $"{mode}: {Median(times[mode]):F0} ns/task, {baseline} {Median(times[baseline]):F0} ns/task, ratio (median of {rounds} paired rounds) {Median(ratios):F2}"));
        }

        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (Driver driver in drivers.Values)
        {
            driver.Dispose();
        }

        return 0;
    }

    /// <summary>The median of <paramref name="values"/> (the upper one of an even count), as the probes report it.</summary>
    internal static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }

    private sealed class Driver : IDisposable
    {
        private readonly string _mode;
        private readonly int _batch;
        private readonly Task[] _tasks;
        private readonly string[] _keys;
        private readonly TaskSupervisor _supervisor = new();
        private readonly TaskSupervisor _configured = new(new TaskSupervisorOptions { OnTaskEnded = static _ => { } });
        private readonly TaskOptions _named = new() { Name = "profile" };
        private readonly Countdown _countdown = new();
        private readonly HandWrittenTracker<long> _tracker;
        private readonly SecondThread _second = new();
        private readonly Action _raw;
        private readonly Action _rawYield;
        private readonly Action _unkeyedHalf;
        private readonly Action _rawFirstHalf;
        private readonly Action _rawSecondHalf;
        private long _nextId;

        public Driver(string mode, int batch = Batch)
        {
            _mode = mode;
            _batch = batch;
            _tasks = new Task[batch];
            _keys = new string[batch];

            // Formatted once, as in StartBenchmarks: every round waits until its tasks have ended, and an ended task has
            // released its key, so the next round reuses them.
            for (int i = 0; i < _batch; i++)
            {
                _keys[i] = "task:" + i.ToString(CultureInfo.InvariantCulture);
            }
            _tracker = new HandWrittenTracker<long>(_countdown.Signal);
#pragma warning disable TS0003 // the raw fire-and-forget baseline drops its task on purpose
            _raw = () => s_work(CancellationToken.None);
            _rawYield = () => s_yield(CancellationToken.None);
#pragma warning restore TS0003
            _unkeyedHalf = () =>
            {
                for (int i = 0; i < _batch / 2; i++)
                {
                    _supervisor.Run(s_work);
                }
            };
            _rawFirstHalf = () => StartRaw(0, _batch / 2);
            _rawSecondHalf = () => StartRaw(_batch / 2, _batch);
        }

        public void Round()
        {
            Task done = _mode switch
            {
                "raw" => StartRaw(_raw),
                "raw-yield" => StartRaw(_rawYield),
                "unkeyed" => StartUnkeyed(_supervisor, s_work, options: null),
                "unkeyed-yield" => StartUnkeyed(_supervisor, s_yield, options: null),
                "unkeyed-options" => StartUnkeyed(_configured, s_work, _named),
                "keyed" => StartKeyed(),
                "tracker" => StartTracker(),
                "unkeyed-two-threads" => StartBoth(_unkeyedHalf, () => _supervisor.WhenIdleAsync()),
                "raw-two-threads" => StartBoth(_rawSecondHalf, _rawFirstHalf),
                _ => throw new InvalidOperationException(_mode),
            };
            done.GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            _second.Dispose();
            _supervisor.Dispose();
            _configured.Dispose();
        }

        private Task StartRaw(Action action)
        {
            for (int i = 0; i < _batch; i++)
            {
                _tasks[i] = Task.Run(action);
            }

            return Task.WhenAll(_tasks);
        }

        private void StartRaw(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                _tasks[i] = Task.Run(_raw);
            }
        }

        private Task StartUnkeyed(TaskSupervisor supervisor, Func<CancellationToken, Task> work, TaskOptions? options)
        {
            for (int i = 0; i < _batch; i++)
            {
                supervisor.Run(work, options);
            }

            return supervisor.WhenIdleAsync();
        }

        private Task StartKeyed()
        {
            for (int i = 0; i < _batch; i++)
            {
                _supervisor.Run(_keys[i], s_work);
            }

            return _supervisor.WhenIdleAsync();
        }

        private Task StartTracker()
        {
            Task idle = _countdown.Reset(_batch);
            for (int i = 0; i < _batch; i++)
            {
                _tracker.TryRun(++_nextId, s_work, CancellationToken.None);
            }

            return idle;
        }

        private Task StartBoth(Action onSecondThread, Func<Task> wait)
        {
            _second.RunBoth(onSecondThread, _unkeyedHalf);
            return wait();
        }

        private Task StartBoth(Action onSecondThread, Action onThisThread)
        {
            _second.RunBoth(onSecondThread, onThisThread);
            return Task.WhenAll(_tasks);
        }
    }
}

/// <summary>The callgrind client requests of the native helper that profile-start.py builds (zero, dump).</summary>
internal sealed class ProfileControl
{
    private readonly Request _begin;
    private readonly Request _end;

    private ProfileControl(Request begin, Request end)
    {
        _begin = begin;
        _end = end;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void Request();

    public static ProfileControl? Load(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        nint library = NativeLibrary.Load(path);
        return new ProfileControl(
            Marshal.GetDelegateForFunctionPointer<Request>(NativeLibrary.GetExport(library, "profile_begin")),
            Marshal.GetDelegateForFunctionPointer<Request>(NativeLibrary.GetExport(library, "profile_end")));
    }

    public void Begin() => _begin();

    public void End() => _end();
}
