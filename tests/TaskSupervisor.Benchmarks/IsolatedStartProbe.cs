using System.Diagnostics;
using System.Globalization;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// The starting thread on its own (<c>-- --isolated-start ROUNDS</c>). Every thread-pool worker is held at a gate while
/// a round of <see cref="StartBenchmarks.N"/> trivial tasks is started, so the time of the start loop is the starting
/// thread's own cost: no pool thread runs the tasks, or takes their cache lines, meanwhile. Then the gate opens and the
/// time until the round has ended is the pool's side of it. Prints, for raw <c>Task.Run</c>, unkeyed and keyed starts,
/// the median over rounds of each side per task, and its ratio to raw.
/// </summary>
/// <remarks>
/// <see cref="StartBenchmarks"/> times both sides at once, on two cores: whichever is slower sets the pace, and the
/// faster one waits, or meets the other on shared cache lines. This probe tells the two apart. It pins the pool to one
/// worker per core for its whole run, so it runs alone in its process.
/// </remarks>
internal static class IsolatedStartProbe
{
    private static readonly Func<CancellationToken, Task> s_work = static _ => Task.CompletedTask;

    public static int Run(string[] args)
    {
        if (args.Length < 2 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int rounds) || rounds < 1)
        {
            Console.Error.WriteLine("usage: --isolated-start <rounds>");
            return 2;
        }

        // One worker per core, and no more: every one of them can be held at the gate.
        int workers = Environment.ProcessorCount;
        ThreadPool.SetMinThreads(workers, workers);
        ThreadPool.SetMaxThreads(workers, workers);

        const int N = StartBenchmarks.N;
        const int Warmup = 20;
        string[] keys = [.. Enumerable.Range(0, N).Select(i => "task:" + i.ToString(CultureInfo.InvariantCulture))];
        var tasks = new Task[N];
#pragma warning disable TS0003 // the raw baseline drops its task on purpose
        Action raw = static () => s_work(CancellationToken.None);
#pragma warning restore TS0003
        using var supervisor = new TaskSupervisor();
        string[] modes = ["raw", "unkeyed", "keyed"];
        var starting = modes.ToDictionary(m => m, _ => new List<double>());
        var pool = modes.ToDictionary(m => m, _ => new List<double>());
        for (int r = 0; r < Warmup + rounds; r++)
        {
            foreach (string mode in modes)
            {
                using var gate = new ManualResetEventSlim();
                using var held = new CountdownEvent(workers);
                using var released = new CountdownEvent(workers);
                for (int w = 0; w < workers; w++)
                {
#pragma warning disable TS0001 // a worker held at the gate: the countdowns observe it, and it cannot fail
                    ThreadPool.UnsafeQueueUserWorkItem(
                        _ =>
                        {
                            held.Signal();
                            gate.Wait();
                            released.Signal();
                        },
                        null);
#pragma warning restore TS0001
                }

                held.Wait();
                long before = Stopwatch.GetTimestamp();
                for (int i = 0; i < N; i++)
                {
                    switch (mode)
                    {
                        case "raw":
                            tasks[i] = Task.Run(raw);
                            break;
                        case "unkeyed":
                            supervisor.Run(s_work);
                            break;
                        default:
                            supervisor.Run(keys[i], s_work);
                            break;
                    }
                }

                long started = Stopwatch.GetTimestamp();
                gate.Set();
                (mode == "raw" ? Task.WhenAll(tasks) : supervisor.WhenIdleAsync()).GetAwaiter().GetResult();
                long ended = Stopwatch.GetTimestamp();
                released.Wait();
                if (r >= Warmup)
                {
                    starting[mode].Add(Stopwatch.GetElapsedTime(before, started).TotalNanoseconds / N);
                    pool[mode].Add(Stopwatch.GetElapsedTime(started, ended).TotalNanoseconds / N);
                }
            }
        }

        foreach (string mode in modes)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"{mode,-8} starting thread {StartProfile.Median(starting[mode]),4:F0} ns/task ({StartProfile.Median(starting[mode]) / StartProfile.Median(starting["raw"]):F2}x raw), pool side {StartProfile.Median(pool[mode]),4:F0} ns/task ({StartProfile.Median(pool[mode]) / StartProfile.Median(pool["raw"]):F2}x)"));
        }

        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
}
