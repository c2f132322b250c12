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
/// <see cref="BackgroundJobServer"/> of the same process, on the same storage.
/// <c>--durable-latency sqlite &lt;file&gt; [jobs]</c> or <c>--durable-latency pg &lt;connection string&gt; [jobs]</c>.
/// </summary>
/// <remarks>
/// Not a BenchmarkDotNet benchmark: each sample is one job's wall-clock latency, which is what the user waits for, and
/// the figure is its median and 95th percentile. Both paths run with the same server running, jobs one after another.
/// </remarks>
public static class DurableLatencyProbe
{
    private const int Warmup = 10;

    public static int Run(string[] args)
    {
        string kind = args[1];
        string target = args[2];
        int jobs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 200;
        Console.WriteLine($"# durable latency probe, {kind}, {jobs} jobs each, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}");
        if (kind == "sqlite")
        {
            Measure("SQLite file", CreateSqlite(target), jobs, workerCount: 2);
        }
        else
        {
            // Hangfire.PostgreSql's EnableLongPolling (LISTEN/NOTIFY) is left out: with it, this probe did not finish 200
            // jobs in 8 minutes on 2026-12-02 (not investigated).
            Measure("PostgreSQL", CreatePostgres(target), jobs, workerCount: 10);
        }

        Console.WriteLine($"# load average at the end {LoadAverage()}");
        return 0;
    }

    private static void Measure(string storageName, JobStorage storage, int jobs, int workerCount)
    {
        var services = new ServiceCollection();
        services.AddSingleton(storage);
        services.AddSingleton<LatencyJob>();
        services.AddTaskSupervisor().AddDurableWork();
        ServiceProvider provider = services.BuildServiceProvider();
        DurableWork durable = provider.GetRequiredService<DurableWork>();
        var client = new BackgroundJobClient(storage);
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workerCount, SchedulePollingInterval = TimeSpan.FromSeconds(1) }, storage);
        int next = 0;

        double[] durableMs = Sample(jobs, async () =>
        {
            int id = Interlocked.Increment(ref next);
            Task<long> firstLine = LatencyJob.Expect(id);
            long start = Stopwatch.GetTimestamp();
            DurableTask started = await durable.RunDurableAsync<LatencyJob>("latency:" + id, j => j.RunAsync(id, CancellationToken.None)).ConfigureAwait(false);
            double ms = Stopwatch.GetElapsedTime(start, await firstLine.ConfigureAwait(false)).TotalMilliseconds;

            // The delete after the completion is not part of the latency; it ends before the next sample starts.
            await started.Task!.Task.ConfigureAwait(false);
            return ms;
        });
        double[] hangfireMs = Sample(jobs, async () =>
        {
            int id = Interlocked.Increment(ref next);
            Task<long> firstLine = LatencyJob.Expect(id);
            long start = Stopwatch.GetTimestamp();
            client.Enqueue<LatencyJob>(j => j.RunAsync(id, CancellationToken.None));
            return Stopwatch.GetElapsedTime(start, await firstLine.ConfigureAwait(false)).TotalMilliseconds;
        });

        Console.WriteLine($"| {storageName} | durable (in process) | {Percentile(durableMs, 0.5):0.00} ms | {Percentile(durableMs, 0.95):0.00} ms |");
        Console.WriteLine($"| {storageName} | Hangfire Enqueue + server ({workerCount} workers) | {Percentile(hangfireMs, 0.5):0.00} ms | {Percentile(hangfireMs, 0.95):0.00} ms |");
        Console.WriteLine($"|   | ratio of medians (Hangfire / durable) | {Percentile(hangfireMs, 0.5) / Percentile(durableMs, 0.5):0.#}x | |");
        provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static double[] Sample(int jobs, Func<Task<double>> one)
    {
        var samples = new double[jobs];
        for (int i = -Warmup; i < jobs; i++)
        {
            double ms = one().GetAwaiter().GetResult();
            if (i >= 0)
            {
                samples[i] = ms;
            }
        }

        Array.Sort(samples);
        return samples;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static JobStorage CreateSqlite(string path) => new SQLiteStorage(
        new SQLiteDbConnectionFactory(() =>
        {
            var connection = new SQLite.SQLiteConnection(path, SQLite.SQLiteOpenFlags.ReadWrite | SQLite.SQLiteOpenFlags.Create | SQLite.SQLiteOpenFlags.FullMutex, storeDateTimeAsTicks: true)
            {
                BusyTimeout = TimeSpan.FromSeconds(30),
            };
            connection.ExecuteScalar<string>("PRAGMA journal_mode=WAL");
            connection.ExecuteScalar<string>("PRAGMA synchronous=NORMAL");
            return connection;
        }),
        new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromMilliseconds(200) });

    private static JobStorage CreatePostgres(string connection)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = "latency_" + Guid.NewGuid().ToString("N")[..8],
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            PrepareSchemaIfNecessary = true,
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connection, options), options);
    }
}

/// <summary>The probe's work: its first line records the time and signals whoever waits for that id.</summary>
public sealed class LatencyJob
{
    private static readonly ConcurrentDictionary<int, TaskCompletionSource<long>> s_waiting = new();

    public static Task<long> Expect(int id) => s_waiting.GetOrAdd(id, static _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public Task RunAsync(int id, CancellationToken cancellationToken)
    {
        long now = Stopwatch.GetTimestamp();
        if (s_waiting.TryRemove(id, out TaskCompletionSource<long>? waiting))
        {
            waiting.TrySetResult(now);
        }

        return Task.CompletedTask;
    }
}
