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

    private sealed class Driver : IDisposable
    {
        private readonly string _mode;
        private readonly Task[] _tasks = new Task[Batch];
        private readonly string[] _keys = new string[Batch];
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

        public Driver(string mode)
        {
            _mode = mode;

            // Formatted once, as in StartBenchmarks: every round waits until its tasks have ended, and an ended task has
            // released its key, so the next round reuses them.
            for (int i = 0; i < Batch; i++)
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
                for (int i = 0; i < Batch / 2; i++)
                {
                    _supervisor.Run(s_work);
                }
            };
            _rawFirstHalf = () => StartRaw(0, Batch / 2);
            _rawSecondHalf = () => StartRaw(Batch / 2, Batch);
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
            for (int i = 0; i < Batch; i++)
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

        private static Task StartUnkeyed(TaskSupervisor supervisor, Func<CancellationToken, Task> work, TaskOptions? options)
        {
            for (int i = 0; i < Batch; i++)
            {
                supervisor.Run(work, options);
            }

            return supervisor.WhenIdleAsync();
        }

        private Task StartKeyed()
        {
            for (int i = 0; i < Batch; i++)
            {
                _supervisor.Run(_keys[i], s_work);
            }

            return _supervisor.WhenIdleAsync();
        }

        private Task StartTracker()
        {
            Task idle = _countdown.Reset(Batch);
            for (int i = 0; i < Batch; i++)
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
