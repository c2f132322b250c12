using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using TaskSupervision;

namespace PitfallsDemo.Support;

/// <summary>
/// Listens in-process to what an OpenTelemetry SDK would export: the TaskSupervisor meter's measurements and the
/// activities of background tasks and of requests, so that the tour can show them without an exporter's noise.
/// </summary>
internal sealed class TelemetryWitness : IDisposable
{
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly ConcurrentDictionary<string, double> _sums = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public TelemetryWitness()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == TaskSupervisorDiagnostics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _meters.Start();

        _activities = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is TaskSupervisorDiagnostics.ActivitySourceName or "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);
    }

    /// <summary>The sum of an instrument's measurements, optionally only those with the given outcome tag.</summary>
    public double Sum(string instrument, string? outcome = null) => _sums.GetValueOrDefault(outcome is null ? instrument : instrument + "|" + outcome);

    /// <summary>The background task's activity for <paramref name="key"/>, and the request activity it links to.</summary>
    public (Activity? Task, Activity? Request) FindTrace(string key)
    {
        Activity? task = _stopped.LastOrDefault(a => a.Source.Name == TaskSupervisorDiagnostics.ActivitySourceName
            && (string?)a.GetTagItem(TaskSupervisorDiagnostics.TaskKeyTag) == key);
        ActivityLink? link = task?.Links.FirstOrDefault();
        Activity? request = link is null ? null : _stopped.FirstOrDefault(a => a.SpanId == link.Value.Context.SpanId);
        return (task, request);
    }

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == TaskSupervisorDiagnostics.OutcomeTag)
            {
                _sums.AddOrUpdate(instrument.Name + "|" + tag.Value, value, (_, sum) => sum + value);
            }
        }
    }
}
