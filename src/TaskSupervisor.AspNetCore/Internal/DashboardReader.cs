using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskSupervision.Internal;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>
/// Reads the supervisors for the dashboard: summaries, pages of tasks, recent failures, and whole live updates as UTF-8
/// JSON. Every read is bounded by a page or a ring, never by the number of tasks sent.
/// </summary>
internal sealed class DashboardReader
{
    private readonly IServiceProvider _services;
    private readonly DashboardRecorders _recorders;
    private readonly TimeProvider _timeProvider;
    private ITaskSupervisor[]? _supervisors;

    public DashboardReader(IServiceProvider services, DashboardRecorders recorders, IOptions<TaskSupervisorDashboardOptions> options, TimeProvider? timeProvider = null)
    {
        _services = services;
        _recorders = recorders;
        Options = options.Value;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public TaskSupervisorDashboardOptions Options { get; }

    public TimeProvider TimeProvider => _timeProvider;

    /// <summary>
    /// The supervisors the container holds: the default one first, then the named ones by name. Resolved once, on the
    /// first read: registrations are fixed once the container is built.
    /// </summary>
    public IReadOnlyList<ITaskSupervisor> Supervisors => _supervisors ??= Resolve(_services);

    public ITaskSupervisor? Find(string? name)
    {
        IReadOnlyList<ITaskSupervisor> supervisors = Supervisors;
        if (string.IsNullOrEmpty(name))
        {
            return supervisors.Count > 0 ? supervisors[0] : null;
        }

        foreach (ITaskSupervisor supervisor in supervisors)
        {
            if (string.Equals(supervisor.Name, name, StringComparison.Ordinal))
            {
                return supervisor;
            }
        }

        return null;
    }

    public SupervisorSummary[] GetSummaries()
    {
        IReadOnlyList<ITaskSupervisor> supervisors = Supervisors;
        SupervisorSummary[] summaries = new SupervisorSummary[supervisors.Count];
        for (int i = 0; i < summaries.Length; i++)
        {
            summaries[i] = Summarize(supervisors[i]);
        }

        return summaries;
    }

    public FailureRow[] GetFailures(ITaskSupervisor supervisor) =>
        _recorders.Find(supervisor.Name) is { } recorder ? ToRows(supervisor.Name, recorder.Failures.Snapshot()) : [];

    /// <summary>The failure ring's version, to send the failures in a live update only when they changed.</summary>
    public long FailureVersion(ITaskSupervisor supervisor) => _recorders.Find(supervisor.Name)?.Failures.Version ?? 0;

    /// <summary>One live update as UTF-8 JSON: every supervisor's summary, the page asked for, and the failures if they changed.</summary>
    public byte[] WriteUpdate(ITaskSupervisor supervisor, TaskPageRequest request, bool includeFailures)
    {
        DashboardUpdate update = new(
            _timeProvider.GetUtcNow(),
            GetSummaries(),
            SupervisorAdapter.GetPage(supervisor, request),
            includeFailures ? GetFailures(supervisor) : null);
        return JsonSerializer.SerializeToUtf8Bytes(update, DashboardJsonContext.Default.DashboardUpdate);
    }

    private SupervisorSummary Summarize(ITaskSupervisor supervisor)
    {
        SupervisorRecorder? recorder = _recorders.Find(supervisor.Name);
        RecentOutcomes recent = recorder is null
            ? new RecentOutcomes(Options.OutcomeWindow.TotalSeconds, 0, 0, 0, 0, 0)
            : ToRecent(recorder.Outcomes);
        return new SupervisorSummary(
            supervisor.Name,
            supervisor.Count,
            supervisor.RunningCount,
            supervisor.PendingCount,
            recorder?.MaxConcurrency,
            recorder?.MaxPending,
            supervisor.IsDraining,
            supervisor.IsClosed,
            recent,
            SupervisorAdapter.LastDrain(supervisor));
    }

    private static RecentOutcomes ToRecent(OutcomeWindow window)
    {
        OutcomeCounts counts = window.GetCounts();
        return new RecentOutcomes(window.Window.TotalSeconds, counts.Completed, counts.Canceled, counts.Faulted, counts.TimedOut, counts.GaveUp);
    }

    private static FailureRow[] ToRows(string supervisor, FailureRecord[] records)
    {
        FailureRow[] rows = new FailureRow[records.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            FailureRecord r = records[i];
            rows[i] = new FailureRow(supervisor, r.EndedAt, r.Id, r.Key, r.Name, r.Status, r.GaveUp, r.RestartCount, r.Elapsed.TotalMilliseconds, r.ExceptionType, r.Message, r.Details);
        }

        return rows;
    }

    private static ITaskSupervisor[] Resolve(IServiceProvider services)
    {
        List<ITaskSupervisor> found = [];
        if (services.GetService<ITaskSupervisor>() is { } unnamed)
        {
            found.Add(unnamed);
        }

        // Every keyed registration of ITaskSupervisor (AddTaskSupervisor("emails")); a supervisor is known by its Name.
        List<ITaskSupervisor> named = [.. services.GetKeyedServices<ITaskSupervisor>(KeyedService.AnyKey)];
        named.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (ITaskSupervisor supervisor in named)
        {
            if (!found.Contains(supervisor))
            {
                found.Add(supervisor);
            }
        }

        return [.. found];
    }
}
