using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using TaskSupervision.Hangfire;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// Durable work (TaskSupervisor.Hangfire) on a SQLite file, one job per invocation. Category 1, the cost of a start to
/// the end of the work: a plain supervised start (baseline), a durable start (stored, run in process, deleted), and
/// Hangfire's own <c>Enqueue</c> on the same storage (the write only). Category 2, the time from the start to the work's
/// first line: durable in process (baseline) against <c>Enqueue</c> picked up by a Hangfire server in this process
/// polling its queue every 200 ms (Hangfire's default is 15 s for SQL storages).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class DurableStartBenchmarks
{
    private const string Cost = "1 Start to end";
    private const string Latency = "2 Start to first line";

    private string _directory = null!;
    private ServiceProvider _services = null!;
    private ITaskSupervisor _supervisor = null!;
    private DurableWork _durable = null!;
    private BackgroundJobClient _client = null!;
    private BackgroundJobServer _server = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "task-supervisor-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        string database = Path.Combine(_directory, "jobs.db");
        var storage = new SQLiteStorage(
            new SQLiteDbConnectionFactory(() =>
            {
                var connection = new SQLite.SQLiteConnection(database, SQLite.SQLiteOpenFlags.ReadWrite | SQLite.SQLiteOpenFlags.Create | SQLite.SQLiteOpenFlags.FullMutex, storeDateTimeAsTicks: true)
                {
                    BusyTimeout = TimeSpan.FromSeconds(30),
                };
                connection.ExecuteScalar<string>("PRAGMA journal_mode=WAL");
                connection.ExecuteScalar<string>("PRAGMA synchronous=NORMAL");
                return connection;
            }),
            new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromMilliseconds(200) });
        var services = new ServiceCollection();
        services.AddSingleton<JobStorage>(storage);
        services.AddSingleton<BenchJob>();
        services.AddTaskSupervisor().AddDurableWork();
        _services = services.BuildServiceProvider();
        _supervisor = _services.GetRequiredService<ITaskSupervisor>();
        _durable = _services.GetRequiredService<DurableWork>();
        _client = new BackgroundJobClient(storage);
        _server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 2, SchedulePollingInterval = TimeSpan.FromSeconds(1) }, storage);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.Dispose();
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Cost)]
    public Task PlainSupervisedStart() => _supervisor.Run("plain:" + Interlocked.Increment(ref _next), static _ => Task.CompletedTask).Task;

    [Benchmark]
    [BenchmarkCategory(Cost)]
    public async Task DurableStart()
    {
        int id = Interlocked.Increment(ref _next);
        DurableTask job = await _durable.RunDurableAsync<BenchJob>("durable:" + id, j => j.RunAsync(id, CancellationToken.None)).ConfigureAwait(false);
        await job.Task!.Task.ConfigureAwait(false);
    }

    [Benchmark]
    [BenchmarkCategory(Cost)]
    public string HangfireEnqueue()
    {
        int id = Interlocked.Increment(ref _next);
        return _client.Enqueue<BenchJob>(j => j.RunAsync(id, CancellationToken.None));
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Latency)]
    public async Task DurableStartToFirstLine()
    {
        int id = Interlocked.Increment(ref _next);
        Task firstLine = BenchJob.Expect(id);
        await _durable.RunDurableAsync<BenchJob>("first-line:" + id, j => j.RunAsync(id, CancellationToken.None)).ConfigureAwait(false);
        await firstLine.ConfigureAwait(false);
    }

    [Benchmark]
    [BenchmarkCategory(Latency)]
    public async Task HangfireEnqueueToFirstLine()
    {
        int id = Interlocked.Increment(ref _next);
        Task firstLine = BenchJob.Expect(id);
        _client.Enqueue<BenchJob>(j => j.RunAsync(id, CancellationToken.None));
        await firstLine.ConfigureAwait(false);
    }
}

/// <summary>The work of the durable benchmarks: its first line signals whoever waits for that id.</summary>
public sealed class BenchJob
{
    private static readonly ConcurrentDictionary<int, TaskCompletionSource> s_waiting = new();

    public static Task Expect(int id) => s_waiting.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public Task RunAsync(int id, CancellationToken cancellationToken)
    {
        if (s_waiting.TryRemove(id, out TaskCompletionSource? waiting))
        {
            waiting.TrySetResult();
        }

        return Task.CompletedTask;
    }
}
