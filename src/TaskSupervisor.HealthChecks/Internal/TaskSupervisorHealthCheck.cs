using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSupervision.Internal;

namespace TaskSupervision.HealthChecks.Internal;

/// <summary>
/// Reports the health of one supervisor from its outcome tracker (faults and give-ups within the window) and from the
/// supervisor itself (task ages, pending queue). Created by the health check service for each run; cheap.
/// </summary>
internal sealed class TaskSupervisorHealthCheck : IHealthCheck
{
    private readonly string _checkName;
    private readonly string _supervisorName;
    private readonly ITaskSupervisor? _supervisor;
    private readonly OutcomeWindow _outcomes;
    private readonly TaskSupervisorHealthCheckOptions _options;
    private readonly int? _maxPending;
    private readonly ILogger _logger;

    public TaskSupervisorHealthCheck(
        string checkName,
        string supervisorName,
        ITaskSupervisor? supervisor,
        OutcomeWindow outcomes,
        TaskSupervisorHealthCheckOptions options,
        int? maxPending,
        ILogger logger)
    {
        _checkName = checkName;
        _supervisorName = supervisorName;
        _supervisor = supervisor;
        _outcomes = outcomes;
        _options = options;
        _maxPending = maxPending;
        _logger = logger;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_supervisor is null)
        {
            Log.SupervisorNotRegistered(_logger, _checkName, _supervisorName);
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                $"No supervisor '{_supervisorName}' is registered."));
        }

        OutcomeCounts counts = _outcomes.GetCounts();
        int count = _supervisor.Count;
        int pending = _supervisor.PendingCount;
        var data = new Dictionary<string, object>
        {
            [HealthCheckDataKeys.Ended] = counts.Ended,
            [HealthCheckDataKeys.Faulted] = counts.Failed,
            [HealthCheckDataKeys.GaveUp] = counts.GaveUp,
            [HealthCheckDataKeys.Running] = Math.Max(0, count - pending),
            [HealthCheckDataKeys.Pending] = pending,
        };
        if (_maxPending is int max)
        {
            data[HealthCheckDataKeys.MaxPending] = max;
        }

        (int overdue, string[] overdueTasks) = FindOverdue();
        if (_options.MaxTaskAge is not null)
        {
            data[HealthCheckDataKeys.Overdue] = overdue;
            data[HealthCheckDataKeys.OverdueTasks] = overdueTasks;
        }

        string window = $"in the last {_outcomes.Window.TotalSeconds:0} s";

        // Unhealthy first: failures are worse than slowness, and the description names the worst finding.
        if (_options.UnhealthyOnGaveUp && counts.GaveUp > 0)
        {
            return Result(context.Registration.FailureStatus, $"{counts.GaveUp} task(s) given up on {window}.", data);
        }

        if (_options.UnhealthyFaultedCount is int faultedCount && counts.Failed >= faultedCount)
        {
            return Result(context.Registration.FailureStatus, $"{counts.Failed} task(s) faulted {window} (threshold {faultedCount}).", data);
        }

        if (_options.UnhealthyFaultedShare is double share
            && counts.Ended >= _options.MinimumEnded
            && counts.Failed >= share * counts.Ended)
        {
            return Result(context.Registration.FailureStatus, $"{counts.Failed} of {counts.Ended} task(s) faulted {window} (threshold {share:P0}).", data);
        }

        if (overdue > 0)
        {
            return Result(HealthStatus.Degraded, $"{overdue} task(s) tracked longer than {_options.MaxTaskAge!.Value.TotalSeconds:0.###} s.", data);
        }

        if (_options.DegradedPendingShare is double pendingShare && _maxPending is int bound && bound > 0 && pending >= pendingShare * bound)
        {
            return Result(HealthStatus.Degraded, $"{pending} task(s) pending of at most {bound}.", data);
        }

        return Result(HealthStatus.Healthy, $"{counts.Ended} task(s) ended {window}, {counts.Failed} faulted; {count} tracked.", data);
    }

    private (int Count, string[] Tasks) FindOverdue()
    {
        if (_options.MaxTaskAge is not TimeSpan maxAge)
        {
            return (0, []);
        }

        int overdue = 0;
        var tasks = new List<string>(HealthCheckConstants.MaxOverdueTasksInData);
        foreach (SupervisedTaskInfo info in _supervisor!.GetSnapshot())
        {
            if (info.Age > maxAge)
            {
                overdue++;
                if (tasks.Count < HealthCheckConstants.MaxOverdueTasksInData)
                {
                    // Unkeyed work has no key: its name, else its id, still lets an operator find it in the logs.
                    tasks.Add(info.Key ?? info.Name ?? "#" + info.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        return (overdue, tasks.ToArray());
    }

    private static Task<HealthCheckResult> Result(HealthStatus status, string description, Dictionary<string, object> data) =>
        Task.FromResult(new HealthCheckResult(status, description, exception: null, data));
}
