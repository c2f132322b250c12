namespace TaskSupervision;

/// <summary>
/// The names under which TaskSupervisor publishes metrics (<see cref="System.Diagnostics.Metrics.Meter"/>) and traces
/// (<see cref="System.Diagnostics.ActivitySource"/>), for OpenTelemetry (<c>AddMeter(TaskSupervisorDiagnostics.MeterName)</c>,
/// <c>AddSource(TaskSupervisorDiagnostics.ActivitySourceName)</c>) and <c>dotnet-counters</c>.
/// </summary>
/// <remarks>
/// Every measurement is tagged with <see cref="SupervisorTag"/> and, when the task has one, <see cref="TaskNameTag"/>.
/// Task keys are never metric tags: keys such as session ids would explode the cardinality of every time series.
/// Keys appear on activities (traces), where high cardinality is expected.
/// </remarks>
public static class TaskSupervisorDiagnostics
{
    /// <summary>The name of the meter.</summary>
    public const string MeterName = "TaskSupervisor";

    /// <summary>The name of the activity source. Each task runs under an activity named <see cref="ActivityName"/>.</summary>
    public const string ActivitySourceName = "TaskSupervisor";

    /// <summary>The name of the activity a supervised task runs under.</summary>
    public const string ActivityName = "task_supervisor.task";

    /// <summary>Counter of tasks started (admitted), unit <c>{task}</c>.</summary>
    public const string TasksStarted = "task_supervisor.task.started";

    /// <summary>Counter of tasks ended, unit <c>{task}</c>, tagged with <see cref="OutcomeTag"/>.</summary>
    public const string TasksEnded = "task_supervisor.task.ended";

    /// <summary>Up-down counter of tasks running now, unit <c>{task}</c>.</summary>
    public const string TasksRunning = "task_supervisor.task.running";

    /// <summary>Up-down counter of tasks pending now (queued, waiting for a predecessor, or waiting out a restart delay), unit <c>{task}</c>.</summary>
    public const string TasksPending = "task_supervisor.task.pending";

    /// <summary>Histogram of the time from a task's start to its end, unit <c>s</c>, tagged with <see cref="OutcomeTag"/>.</summary>
    public const string TaskDuration = "task_supervisor.task.duration";

    /// <summary>Counter of restarts by a <see cref="RestartPolicy"/>, unit <c>{restart}</c>.</summary>
    public const string Restarts = "task_supervisor.task.restarts";

    /// <summary>Counter of tasks given up on after too many restarts, unit <c>{task}</c>.</summary>
    public const string GiveUps = "task_supervisor.task.give_ups";

    /// <summary>Counter of task-ended callbacks that threw, unit <c>{callback}</c>.</summary>
    public const string CallbackFailures = "task_supervisor.callback.failures";

    /// <summary>Histogram of drain durations, unit <c>s</c>.</summary>
    public const string DrainDuration = "task_supervisor.drain.duration";

    /// <summary>Counter of tasks still running when a drain timed out, unit <c>{task}</c>.</summary>
    public const string DrainStragglers = "task_supervisor.drain.stragglers";

    /// <summary>
    /// Counter of tasks that ignored their token and completed after their <see cref="TaskOptions.Timeout"/> (overruns,
    /// logged as <c>TaskOverran</c>), unit <c>{task}</c>.
    /// </summary>
    public const string Overruns = "task_supervisor.task.overruns";

    /// <summary>The tag holding the supervisor's name.</summary>
    public const string SupervisorTag = "task_supervisor.name";

    /// <summary>The tag holding the task's name (<see cref="TaskOptions.Name"/>), present only when the task has one.</summary>
    public const string TaskNameTag = "task_supervisor.task.name";

    /// <summary>The tag holding how a task ended: <c>completed</c>, <c>canceled</c>, <c>faulted</c> or <c>timed_out</c>.</summary>
    public const string OutcomeTag = "task_supervisor.task.outcome";

    /// <summary>The activity tag holding the task's key (traces only).</summary>
    public const string TaskKeyTag = "task_supervisor.task.key";

    /// <summary>The activity tag holding the task's id (traces only).</summary>
    public const string TaskIdTag = "task_supervisor.task.id";
}
