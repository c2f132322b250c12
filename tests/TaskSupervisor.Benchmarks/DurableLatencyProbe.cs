using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using TaskSupervision.Hangfire;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// The latency probe of durable work (issue 13's headline): the time from a start to the work's first line, one job at a
/// time, for a durable start (stored, then run at once in process) against Hangfire's own <c>Enqueue</c> picked up by a
/// <see cref="BackgroundJobServer"/>, on the same storage. The server runs either in the enqueueing process (<c>same</c>,
/// Hangfire's best case) or in a second process (<c>cross</c>, the usual web and worker split: a child process of this
/// probe, started with <c>--durable-latency-server</c>).
/// <c>--durable-latency sqlite|pg FILE|CONNECTION [JOBS=200] [same|cross] [POLL-MS|default]</c>.
/// </summary>
/// <remarks>
/// Not a BenchmarkDotNet benchmark: each sample is one job's latency, which is what the user waits for, and the figure is
/// its median and 95th percentile. The start's <see cref="Stopwatch.GetTimestamp"/> is a job argument and the job's first
/// line subtracts it from its own: on Linux that clock is <c>CLOCK_MONOTONIC</c>, shared by every process of the machine,
/// so the figure is the same whichever process runs the job. Jobs run one after another. Before each Hangfire sample the
/// probe waits a random part of the poll interval (seeded), so that a job arrives at a random point of the server's poll
/// cycle, as a request would, and not just as the worker that ran the previous job polls again. Durable samples need no
/// such wait: nothing of theirs polls.
/// </remarks>
public static class DurableLatencyProbe
{
    private const int MaxWarmup = 10;
    private const int PauseSeed = 13;
    private static readonly TimeSpan s_firstLineTimeout = TimeSpan.FromMinutes(2);

    public static int Run(string[] args)
    {
        if (args[0] == "--durable-latency-server")
        {
            return Serve(args);
        }

        string kind = args[1];
        string target = args[2];
        int jobs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 200;
        bool cross = args.Length > 4 && args[4] == "cross";
        string poll = args.Length > 5 ? args[5] : "200";
        string schema = "latency_" + Guid.NewGuid().ToString("N")[..8];
        JobStorage storage = CreateStorage(kind, target, schema, poll, out TimeSpan pollInterval, out string storageName);
        int workers = WorkerCount(kind);
        string where = cross ? "server in another process" : "server in this process";
        string pollText = $"{Milliseconds(pollInterval)} ({(poll == "default" ? "the storage's default" : "set by the probe")})";
        Console.WriteLine($"# {storageName}, {where}, {workers} workers, QueuePollInterval {pollText}, {jobs} jobs each, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}");

        var services = new ServiceCollection();
        services.AddSingleton(storage);
        services.AddSingleton<LatencyJob>();
        services.AddTaskSupervisor().AddDurableWork();
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            DurableWork durable = provider.GetRequiredService<DurableWork>();
            var client = new BackgroundJobClient(storage);
            using IDisposable server = cross
                ? ServerProcess.Start(kind, target, schema, poll, workers)
                : new BackgroundJobServer(ServerOptions(workers, "latency-same"), storage);
            int next = 0;
            int warmup = Math.Min(MaxWarmup, Math.Max(2, jobs / 10));

            double[] durableMs = Sample(jobs, warmup, pause: null, async () =>
            {
                int id = Interlocked.Increment(ref next);
                Task<long> firstLine = LatencyJob.Expect(id);
                long start = Stopwatch.GetTimestamp();
                DurableTask started = await durable.RunDurableAsync<LatencyJob>("latency:" + id, j => j.RunAsync(id, start, CancellationToken.None)).ConfigureAwait(false);
                double ms = ToMilliseconds(await firstLine.WaitAsync(s_firstLineTimeout).ConfigureAwait(false));

                // The delete after the completion is not part of the latency; it ends before the next sample starts.
                await started.Task!.Task.ConfigureAwait(false);
                return ms;
            });
            double[] hangfireMs = Sample(jobs, warmup, pause: pollInterval, async () =>
            {
                int id = Interlocked.Increment(ref next);
                Task<long> firstLine = LatencyJob.Expect(id);
                long start = Stopwatch.GetTimestamp();
                client.Enqueue<LatencyJob>(j => j.RunAsync(id, start, CancellationToken.None));
                return ToMilliseconds(await firstLine.WaitAsync(s_firstLineTimeout).ConfigureAwait(false));
            });

            string hangfirePath = cross
                ? $"Hangfire Enqueue, server in another process ({workers} workers, poll {Milliseconds(pollInterval)})"
                : $"Hangfire Enqueue, server in the same process ({workers} workers, poll {Milliseconds(pollInterval)})";
            Console.WriteLine($"| {storageName} | durable, in process{(cross ? " (no server in this process)" : string.Empty)} | {Percentile(durableMs, 0.5):0.00} ms | {Percentile(durableMs, 0.95):0.00} ms |");
            Console.WriteLine($"| {storageName} | {hangfirePath} | {Percentile(hangfireMs, 0.5):0.00} ms | {Percentile(hangfireMs, 0.95):0.00} ms |");
            Console.WriteLine($"|   | Hangfire / durable | {Percentile(hangfireMs, 0.5) / Percentile(durableMs, 0.5):0.#}x | {Percentile(hangfireMs, 0.95) / Percentile(durableMs, 0.95):0.#}x |");
            provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Console.WriteLine($"# load average at the end {LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// The second process of a <c>cross</c> run: a Hangfire server on the same storage that prints
    /// <c>first ID ELAPSED-TICKS</c> from each job's first line, until its standard input closes.
    /// </summary>
    private static int Serve(string[] args)
    {
        string kind = args[1];
        JobStorage storage = CreateStorage(kind, args[2], args[3], args[4], out _, out _);
        LatencyJob.ReportToConsole();
        using (new BackgroundJobServer(ServerOptions(int.Parse(args[5], CultureInfo.InvariantCulture), "latency-cross"), storage))
        {
            Console.WriteLine("ready");
            Console.In.ReadToEnd();
        }

        return 0;
    }

    private static BackgroundJobServerOptions ServerOptions(int workers, string name) =>
        new() { WorkerCount = workers, SchedulePollingInterval = TimeSpan.FromSeconds(1), ServerName = name };

    // The SQLite storage fetches behind one lock per queue: as in the tests' worker, 2 workers for it, 10 (Hangfire's
    // default on 2 cores) for PostgreSQL.
    private static int WorkerCount(string kind) => kind == "sqlite" ? 2 : 10;

    private static double[] Sample(int jobs, int warmup, TimeSpan? pause, Func<Task<double>> one)
    {
        var random = new Random(PauseSeed);
        var samples = new double[jobs];
        for (int i = -warmup; i < jobs; i++)
        {
            if (pause is TimeSpan interval)
            {
                // Not a wait for something to settle: the job's arrival time, at a random point of the poll cycle.
                Thread.Sleep(TimeSpan.FromMilliseconds(random.NextDouble() * interval.TotalMilliseconds));
            }

            double ms = one().GetAwaiter().GetResult();
            if (i >= 0)
            {
                samples[i] = ms;
            }
        }

        Array.Sort(samples);
        return samples;
    }

    private static double ToMilliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static string Milliseconds(TimeSpan interval) => $"{interval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The storage, with <paramref name="poll"/> (milliseconds, or <c>default</c>: the storage's own default) as its queue poll interval.</summary>
    private static JobStorage CreateStorage(string kind, string target, string schema, string poll, out TimeSpan pollInterval, out string storageName)
    {
        if (kind == "sqlite")
        {
            var sqliteOptions = new SQLiteStorageOptions();
            if (poll != "default")
            {
                sqliteOptions.QueuePollInterval = TimeSpan.FromMilliseconds(int.Parse(poll, CultureInfo.InvariantCulture));
            }

            pollInterval = sqliteOptions.QueuePollInterval;
            storageName = "SQLite file";
            return new SQLiteStorage(
                new SQLiteDbConnectionFactory(() =>
                {
                    var connection = new SQLite.SQLiteConnection(target, SQLite.SQLiteOpenFlags.ReadWrite | SQLite.SQLiteOpenFlags.Create | SQLite.SQLiteOpenFlags.FullMutex, storeDateTimeAsTicks: true)
                    {
                        BusyTimeout = TimeSpan.FromSeconds(30),
                    };
                    connection.ExecuteScalar<string>("PRAGMA journal_mode=WAL");
                    connection.ExecuteScalar<string>("PRAGMA synchronous=NORMAL");
                    return connection;
                }),
                sqliteOptions);
        }

        // Hangfire.PostgreSql's EnableLongPolling (LISTEN/NOTIFY, off by default) is left off: with it, the same-process
        // probe did not finish 200 jobs in 8 minutes on 2026-12-02 (not investigated).
        var options = new PostgreSqlStorageOptions { SchemaName = schema, PrepareSchemaIfNecessary = true };
        if (poll != "default")
        {
            options.QueuePollInterval = TimeSpan.FromMilliseconds(int.Parse(poll, CultureInfo.InvariantCulture));
        }

        pollInterval = options.QueuePollInterval;
        storageName = "PostgreSQL";
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(target, options), options);
    }

    /// <summary>The child process that runs the Hangfire server of a <c>cross</c> run; disposing it closes its input and waits for its exit.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly Task _reader;

        private ServerProcess(Process process, Task reader)
        {
            _process = process;
            _reader = reader;
        }

        public static ServerProcess Start(string kind, string target, string schema, string poll, int workers)
        {
            string host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
            var info = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            {
                info.ArgumentList.Add(typeof(DurableLatencyProbe).Assembly.Location);
            }

            foreach (string argument in new[] { "--durable-latency-server", kind, target, schema, poll, workers.ToString(CultureInfo.InvariantCulture) })
            {
                info.ArgumentList.Add(argument);
            }

            Process process = Process.Start(info) ?? throw new InvalidOperationException("The server process did not start.");
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task reader = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is string line)
                {
                    string[] parts = line.Split(' ');
                    if (parts is ["ready"])
                    {
                        ready.TrySetResult();
                    }
                    else if (parts is ["first", string id, string elapsed])
                    {
                        LatencyJob.Complete(int.Parse(id, CultureInfo.InvariantCulture), long.Parse(elapsed, CultureInfo.InvariantCulture));
                    }
                }

                ready.TrySetException(new InvalidOperationException("The server process exited before it was ready."));
            });
            ready.Task.WaitAsync(s_firstLineTimeout).GetAwaiter().GetResult();
            return new ServerProcess(process, reader);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                _process.Kill();
            }

            _reader.GetAwaiter().GetResult();
            _process.Dispose();
        }
    }
}

/// <summary>
/// The probe's work: its first line measures the time since the start it is given (a <see cref="Stopwatch"/> timestamp)
/// and reports it, to whoever waits for that id in this process, or, in a server process, on standard output.
/// </summary>
public sealed class LatencyJob
{
    private static readonly ConcurrentDictionary<int, TaskCompletionSource<long>> s_waiting = new();
    private static bool s_reportToConsole;

    /// <summary>The elapsed <see cref="Stopwatch"/> ticks of job <paramref name="id"/>, once its first line ran.</summary>
    public static Task<long> Expect(int id) => Waiter(id).Task;

    /// <summary>Reports the elapsed ticks of job <paramref name="id"/>.</summary>
    public static void Complete(int id, long elapsedTicks)
    {
        if (s_waiting.TryRemove(id, out TaskCompletionSource<long>? waiting))
        {
            waiting.TrySetResult(elapsedTicks);
        }
    }

    /// <summary>Makes every job of this process report on standard output (the server process of a cross run).</summary>
    public static void ReportToConsole() => s_reportToConsole = true;

    public Task RunAsync(int id, long startedAt, CancellationToken cancellationToken)
    {
        long elapsed = Stopwatch.GetTimestamp() - startedAt;
        if (s_reportToConsole)
        {
            Console.WriteLine($"first {id.ToString(CultureInfo.InvariantCulture)} {elapsed.ToString(CultureInfo.InvariantCulture)}");
        }
        else
        {
            Complete(id, elapsed);
        }

        return Task.CompletedTask;
    }

    private static TaskCompletionSource<long> Waiter(int id) =>
        s_waiting.GetOrAdd(id, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
}
