using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using TaskSupervision.Hangfire;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// The cost of a durable start (TaskSupervisor.Hangfire) on a SQLite file, one job per invocation, from the call to the
/// end of the work: a plain supervised start (baseline), a durable start (the key's lock and record, the job stored as
/// <c>Scheduled</c>, the run in process, the stored job deleted), and Hangfire's own client on the same storage: an
/// <c>Enqueue</c> and a <c>Create</c> in the <c>Scheduled</c> state (the write a durable start makes), each the write only
/// (no server runs in this process, so the queued jobs are never executed and never compete for the file). The time
/// from a start to the work's first line, against a Hangfire server, is <see cref="DurableLatencyProbe"/>'s.
/// </summary>
/// <remarks>
/// Run it with <c>--inProcess</c> on a loaded machine: BenchmarkDotNet otherwise builds a project per run, and its 2-minute
/// build timeout expired under load (every row NA on 2026-12-02 03:49).
/// </remarks>
[MemoryDiagnoser]
public class DurableStartBenchmarks
{
    private string _directory = null!;
    private ServiceProvider _services = null!;
    private ITaskSupervisor _supervisor = null!;
    private DurableWork _durable = null!;
    private BackgroundJobClient _client = null!;
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
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // DurableWork is IAsyncDisposable only: a synchronous Dispose of the container throws.
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task PlainSupervisedStart() => _supervisor.Run("plain:" + Interlocked.Increment(ref _next), static _ => Task.CompletedTask).Task;

    [Benchmark]
    public async Task DurableStart()
    {
        int id = Interlocked.Increment(ref _next);
        DurableTask job = await _durable.RunDurableAsync<BenchJob>("durable:" + id, j => j.RunAsync(id, CancellationToken.None)).ConfigureAwait(false);
        await job.Task!.Task.ConfigureAwait(false);
    }

    [Benchmark]
    public string HangfireEnqueue()
    {
        int id = Interlocked.Increment(ref _next);
        return _client.Enqueue<BenchJob>(j => j.RunAsync(id, CancellationToken.None));
    }

    [Benchmark]
    public string HangfireCreateScheduled()
    {
        int id = Interlocked.Increment(ref _next);
        return _client.Create(Job.FromExpression<BenchJob>(j => j.RunAsync(id, CancellationToken.None)), new ScheduledState(TimeSpan.FromSeconds(30)));
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
