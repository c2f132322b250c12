using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.DependencyInjection;
using TaskSupervision.AspNetCore.Internal;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// Scenario 6: what the dashboard's server spends on one live update (every supervisor's summary plus one page of 50
/// tasks, as UTF-8 JSON) with <see cref="N"/> tasks tracked, against the baseline of serialising the whole snapshot
/// (what a <c>/status</c> endpoint returning <c>GetSnapshot()</c> sends). The bytes of each payload are printed by
/// <c>GlobalSetup</c> (lines starting <c>// payload</c> in the log).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class DashboardUpdateBenchmarks
{
    private const string Update = "6 Dashboard update with N tracked";

    private static readonly JsonSerializerOptions s_snapshotJson = new(JsonSerializerDefaults.Web);

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServiceProvider _services = null!;
    private ITaskSupervisor _supervisor = null!;
    private DashboardReader _reader = null!;

    /// <summary>Tasks tracked (all keyed and waiting) while updates are built.</summary>
    [Params(1_000, 100_000)]
    public int N { get; set; }

    private TaskPageRequest FirstPage => new(Status: null, KeyPrefix: null, NewestFirst: false, Skip: 0, Take: 50);

    private TaskPageRequest Prefix => new(Status: null, KeyPrefix: "job:00099", NewestFirst: false, Skip: 0, Take: 50);

    private TaskPageRequest LastPage => new(Status: null, KeyPrefix: null, NewestFirst: false, Skip: N - 50, Take: 50);

    private TaskPageRequest NewestFirst => new(Status: SupervisedTaskStatus.Running, KeyPrefix: null, NewestFirst: true, Skip: 0, Take: 50);

    [GlobalSetup]
    public void Setup()
    {
        ServiceCollection services = new();
        services.AddTaskSupervisor();
        services.AddTaskSupervisorDashboard(o => o.RecentFailureCapacity = 50);
        _services = services.BuildServiceProvider();
        _supervisor = _services.GetRequiredService<ITaskSupervisor>();
        _reader = _services.GetRequiredService<DashboardReader>();
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run("job:" + i.ToString("D6", CultureInfo.InvariantCulture), _ => _gate.Task);
        }

        // A full failure ring, as after an incident: each update may carry it.
        for (int i = 0; i < 50; i++)
        {
            _supervisor.Run("failing:" + i.ToString(CultureInfo.InvariantCulture), static _ => throw new InvalidOperationException("The remote service answered 503 Service Unavailable."));
        }

        while (_reader.GetFailures(_supervisor).Length < 50 || _supervisor.Count > N)
        {
            Thread.Yield();
        }

        Console.WriteLine($"// payload N={N} Snapshot_AllTasksAsJson: {Snapshot_AllTasksAsJson().Length} bytes");
        Console.WriteLine($"// payload N={N} Update_FirstPage: {Update_FirstPage().Length} bytes");
        Console.WriteLine($"// payload N={N} Update_FirstPage_WithFailures: {Update_FirstPage_WithFailures().Length} bytes");
        Console.WriteLine($"// payload N={N} Update_KeyPrefix: {Update_KeyPrefix().Length} bytes");
        Console.WriteLine($"// payload N={N} Update_LastPage: {Update_LastPage().Length} bytes");
        Console.WriteLine($"// payload N={N} Update_RunningNewestFirst: {Update_RunningNewestFirst().Length} bytes");
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _gate.SetResult();
        await _services.DisposeAsync();
    }

    /// <summary>The whole snapshot as JSON: memory and bytes grow with N.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Update)]
    public byte[] Snapshot_AllTasksAsJson() => JsonSerializer.SerializeToUtf8Bytes(_supervisor.GetSnapshot(), s_snapshotJson);

    /// <summary>The update a page opened on the dashboard receives each second: summaries and the first page of 50.</summary>
    [Benchmark]
    [BenchmarkCategory(Update)]
    public byte[] Update_FirstPage() => _reader.WriteUpdate(_supervisor, FirstPage, includeFailures: false);

    /// <summary>The same with the 50 recent failures (sent when the ring changed since the last update).</summary>
    [Benchmark]
    [BenchmarkCategory(Update)]
    public byte[] Update_FirstPage_WithFailures() => _reader.WriteUpdate(_supervisor, FirstPage, includeFailures: true);

    /// <summary>Filtered by a key prefix that matches 10 tasks.</summary>
    [Benchmark]
    [BenchmarkCategory(Update)]
    public byte[] Update_KeyPrefix() => _reader.WriteUpdate(_supervisor, Prefix, includeFailures: false);

    /// <summary>The last page, oldest first: the core's query keeps skip + take tasks to find it.</summary>
    [Benchmark]
    [BenchmarkCategory(Update)]
    public byte[] Update_LastPage() => _reader.WriteUpdate(_supervisor, LastPage, includeFailures: false);

    /// <summary>Running tasks only, newest first.</summary>
    [Benchmark]
    [BenchmarkCategory(Update)]
    public byte[] Update_RunningNewestFirst() => _reader.WriteUpdate(_supervisor, NewestFirst, includeFailures: false);
}
