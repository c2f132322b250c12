using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>The dashboard's recorders, one per supervisor name. A singleton that exists only when the application registers the dashboard.</summary>
internal sealed class DashboardRecorders
{
    // The core names an unnamed supervisor so; the dashboard finds a supervisor's recorder by the supervisor's Name.
    internal const string DefaultSupervisorName = "default";

    private readonly ConcurrentDictionary<string, SupervisorRecorder> _recorders = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly TaskSupervisorDashboardOptions _options;

    public DashboardRecorders(IOptions<TaskSupervisorDashboardOptions> options, TimeProvider? timeProvider = null)
    {
        _options = options.Value;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public SupervisorRecorder GetOrAdd(string supervisorName) =>
        _recorders.GetOrAdd(supervisorName, static (_, self) => self.Create(), this);

    public SupervisorRecorder? Find(string supervisorName) => _recorders.GetValueOrDefault(supervisorName);

    private SupervisorRecorder Create() =>
        new(_timeProvider, _options.OutcomeWindow, _options.RecentFailureCapacity, _options.IncludeStackTraces);
}

/// <summary>
/// Hooks a recorder into every supervisor the container creates, default and named. A post-configuration, so it runs after
/// (and survives) any <c>o.OnTaskEnded = ...</c> in the application's own configuration. It adds nothing to the start path:
/// the recorder runs only when a task ends.
/// </summary>
internal sealed class DashboardRecorderHook(DashboardRecorders recorders) : IPostConfigureOptions<TaskSupervisorOptions>
{
    public void PostConfigure(string? name, TaskSupervisorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string supervisorName = options.Name ?? (string.IsNullOrEmpty(name) ? DashboardRecorders.DefaultSupervisorName : name);
        SupervisorRecorder recorder = recorders.GetOrAdd(supervisorName);
        recorder.MaxConcurrency = options.MaxConcurrency;
        recorder.MaxPending = options.MaxPending;
        options.OnTaskEnded += recorder.Record;
    }
}
