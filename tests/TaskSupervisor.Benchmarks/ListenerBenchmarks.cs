using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;

namespace TaskSupervision.Benchmarks;

/// <summary>
/// The start path with an OpenTelemetry-like listener attached to the TaskSupervisor meter and activity source, against
/// the same start with nothing listening (the rows of <see cref="StartBenchmarks"/> run with no listener at all). Its own
/// class, so that the listeners, which are process-wide, never touch the other benchmarks' processes.
/// </summary>
[MemoryDiagnoser]
public class ListenerBenchmarks
{
    private const int N = StartBenchmarks.N;

    private static readonly Func<CancellationToken, Task> s_work = static _ => Task.CompletedTask;

    private TaskSupervisor _supervisor = null!;
    private MeterListener? _meters;
    private ActivityListener? _activities;

    /// <summary>Whether a meter listener and an activity listener (sampling everything) are attached.</summary>
    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listening)
        {
            _meters = new MeterListener
            {
                InstrumentPublished = static (instrument, listener) =>
                {
                    if (instrument.Meter.Name == TaskSupervisorDiagnostics.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _meters.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
            _meters.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
            _meters.Start();
            _activities = new ActivityListener
            {
                ShouldListenTo = static source => source.Name == TaskSupervisorDiagnostics.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_activities);
        }

        _supervisor = new TaskSupervisor();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _supervisor.DisposeAsync();
        _meters?.Dispose();
        _activities?.Dispose();
    }

    /// <summary>Unkeyed start-to-end, as <c>StartBenchmarks.Unkeyed_Supervisor</c>.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    public Task Unkeyed_Supervisor()
    {
        for (int i = 0; i < N; i++)
        {
            _supervisor.Run(s_work);
        }

        return _supervisor.WhenIdleAsync();
    }
}
