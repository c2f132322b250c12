using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace TaskSupervision.Internal;

/// <summary>
/// The instruments of one <see cref="Meter"/>. Supervisors that share a meter (the factory returns one meter per name)
/// share its instruments and tell themselves apart by the supervisor tag, so creating supervisors never piles up
/// instruments. With no listener every record is one <see cref="Instrument.Enabled"/> check and allocates nothing.
/// </summary>
internal sealed class SupervisorMetrics
{
    private static readonly ConditionalWeakTable<Meter, SupervisorMetrics> s_byMeter = new();
    private static readonly Meter s_sharedMeter = new(TaskSupervisorDiagnostics.MeterName, typeof(SupervisorMetrics).Assembly.GetName().Version?.ToString());

    private SupervisorMetrics(Meter meter)
    {
        Started = meter.CreateCounter<long>(TaskSupervisorDiagnostics.TasksStarted, "{task}", "Tasks started (admitted) by the supervisor.");
        Ended = meter.CreateCounter<long>(TaskSupervisorDiagnostics.TasksEnded, "{task}", "Tasks ended, by outcome.");
        Running = meter.CreateUpDownCounter<long>(TaskSupervisorDiagnostics.TasksRunning, "{task}", "Tasks running now.");
        Pending = meter.CreateUpDownCounter<long>(TaskSupervisorDiagnostics.TasksPending, "{task}", "Tasks pending now.");
        Duration = meter.CreateHistogram<double>(TaskSupervisorDiagnostics.TaskDuration, "s", "Time from a task's start to its end.");
        Restarts = meter.CreateCounter<long>(TaskSupervisorDiagnostics.Restarts, "{restart}", "Restarts by a restart policy.");
        GiveUps = meter.CreateCounter<long>(TaskSupervisorDiagnostics.GiveUps, "{task}", "Tasks given up on after too many restarts.");
        CallbackFailures = meter.CreateCounter<long>(TaskSupervisorDiagnostics.CallbackFailures, "{callback}", "Task-ended callbacks that threw.");
        DrainDuration = meter.CreateHistogram<double>(TaskSupervisorDiagnostics.DrainDuration, "s", "Duration of drains.");
        DrainStragglers = meter.CreateCounter<long>(TaskSupervisorDiagnostics.DrainStragglers, "{task}", "Tasks still running when a drain timed out.");
        Overruns = meter.CreateCounter<long>(TaskSupervisorDiagnostics.Overruns, "{task}", "Tasks that ignored their token and completed after their timeout.");
    }

    public Counter<long> Started { get; }

    public Counter<long> Ended { get; }

    public UpDownCounter<long> Running { get; }

    public UpDownCounter<long> Pending { get; }

    public Histogram<double> Duration { get; }

    public Counter<long> Restarts { get; }

    public Counter<long> GiveUps { get; }

    public Counter<long> CallbackFailures { get; }

    public Histogram<double> DrainDuration { get; }

    public Counter<long> DrainStragglers { get; }

    public Counter<long> Overruns { get; }

    public static SupervisorMetrics For(IMeterFactory? factory)
    {
        Meter meter = factory?.Create(new MeterOptions(TaskSupervisorDiagnostics.MeterName) { Version = s_sharedMeter.Version }) ?? s_sharedMeter;
        return s_byMeter.GetValue(meter, static m => new SupervisorMetrics(m));
    }

    public static string Outcome(SupervisedTaskStatus status) => status switch
    {
        SupervisedTaskStatus.RanToCompletion => "completed",
        SupervisedTaskStatus.Canceled => "canceled",
        SupervisedTaskStatus.TimedOut => "timed_out",
        _ => "faulted",
    };

    // Each Record method costs one Enabled check per instrument when nobody listens, and allocates nothing: the work is in
    // a separate method, never in a lambda (a lambda capturing the parameters would allocate its closure on every call,
    // listener or not). A listener's callback is user code: whatever it throws is swallowed, because metrics must never
    // stop a task from ending or a start from returning.

    public void RecordAccepted(string supervisor, string? taskName)
    {
        if (Started.Enabled || Pending.Enabled)
        {
            Record(Kind.Accepted, supervisor, taskName);
        }
    }

    public void RecordRunning(string supervisor, string? taskName)
    {
        if (Running.Enabled || Pending.Enabled)
        {
            Record(Kind.Running, supervisor, taskName);
        }
    }

    public void RecordRestart(string supervisor, string? taskName)
    {
        if (Running.Enabled || Pending.Enabled || Restarts.Enabled)
        {
            Record(Kind.Restart, supervisor, taskName);
        }
    }

    /// <summary>Whether <see cref="RecordEnded"/> records anything: someone listens to an instrument a task's end updates.</summary>
    public bool IsEndRecorded => Running.Enabled || Ended.Enabled || Duration.Enabled || GiveUps.Enabled;

    public void RecordEnded(string supervisor, string? taskName, SupervisedTaskStatus status, TimeSpan elapsed, bool gaveUp)
    {
        if (IsEndRecorded)
        {
            Record(gaveUp ? Kind.EndedGaveUp : Kind.Ended, supervisor, taskName, status, elapsed.TotalSeconds);
        }
    }

    public void RecordCallbackFailure(string supervisor, string? taskName)
    {
        if (CallbackFailures.Enabled)
        {
            Record(Kind.CallbackFailure, supervisor, taskName);
        }
    }

    public void RecordOverrun(string supervisor, string? taskName)
    {
        if (Overruns.Enabled)
        {
            Record(Kind.Overrun, supervisor, taskName);
        }
    }

    public void RecordDrain(string supervisor, TimeSpan elapsed, int stragglers)
    {
        if (DrainDuration.Enabled || DrainStragglers.Enabled)
        {
            Record(Kind.Drain, supervisor, taskName: null, value: elapsed.TotalSeconds, count: stragglers);
        }
    }

    private void Record(Kind kind, string supervisor, string? taskName, SupervisedTaskStatus status = default, double value = 0, int count = 0)
    {
        try
        {
            TagList tags = Tags(supervisor, taskName);
            switch (kind)
            {
                case Kind.Accepted:
                    Started.Add(1, tags);
                    Pending.Add(1, tags);
                    break;
                case Kind.Running:
                    Pending.Add(-1, tags);
                    Running.Add(1, tags);
                    break;
                case Kind.Restart:
                    Running.Add(-1, tags);
                    Pending.Add(1, tags);
                    Restarts.Add(1, tags);
                    break;
                case Kind.Ended or Kind.EndedGaveUp:
                    Running.Add(-1, tags);
                    if (kind == Kind.EndedGaveUp)
                    {
                        GiveUps.Add(1, tags);
                    }

                    tags.Add(TaskSupervisorDiagnostics.OutcomeTag, Outcome(status));
                    Ended.Add(1, tags);
                    Duration.Record(value, tags);
                    break;
                case Kind.CallbackFailure:
                    CallbackFailures.Add(1, tags);
                    break;
                case Kind.Overrun:
                    Overruns.Add(1, tags);
                    break;
                case Kind.Drain:
                    DrainDuration.Record(value, tags);
                    if (count > 0)
                    {
                        DrainStragglers.Add(count, tags);
                    }

                    break;
            }
        }
        catch (Exception)
        {
            // See above: a throwing listener is its own problem, never the supervised task's.
        }
    }

    private enum Kind
    {
        Accepted,
        Running,
        Restart,
        Ended,
        EndedGaveUp,
        CallbackFailure,
        Overrun,
        Drain,
    }

    public static TagList Tags(string supervisor, string? taskName)
    {
        var tags = new TagList { { TaskSupervisorDiagnostics.SupervisorTag, supervisor } };
        if (taskName is not null)
        {
            tags.Add(TaskSupervisorDiagnostics.TaskNameTag, taskName);
        }

        return tags;
    }
}
