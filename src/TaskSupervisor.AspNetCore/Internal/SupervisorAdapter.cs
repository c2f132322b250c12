namespace TaskSupervision.AspNetCore.Internal;

/// <summary>A request for one page of a supervisor's tasks.</summary>
internal readonly record struct TaskPageRequest(SupervisedTaskStatus? Status, string? KeyPrefix, bool NewestFirst, int Skip, int Take);

/// <summary>
/// Every read and action the dashboard takes on an <see cref="ITaskSupervisor"/>, in one place, so that the rest of the
/// package depends on the core's query members only here.
/// </summary>
internal static class SupervisorAdapter
{
    /// <summary>How the supervisor's last drain went, or <see langword="null"/> if it was never drained.</summary>
    public static DrainSummary? LastDrain(ITaskSupervisor supervisor) =>
        supervisor.LastDrainReport is { } report
            ? new DrainSummary(report.TasksAtStart, report.Completed, report.Canceled, report.Faulted, report.TimedOut, report.Stragglers.Count, report.Elapsed.TotalMilliseconds, report.IsComplete)
            : null;

    /// <summary>
    /// One page through the core's query: its memory is bounded by skip + take, never by the number of tasks tracked,
    /// and it is taken in one pass without a snapshot of the whole set.
    /// </summary>
    public static TaskTablePage GetPage(ITaskSupervisor supervisor, TaskPageRequest request)
    {
        TaskPage page = supervisor.GetTasks(new TaskQuery
        {
            Status = request.Status,

            // An empty prefix filter means "no filter" on the page, not "keyed tasks only".
            KeyPrefix = string.IsNullOrEmpty(request.KeyPrefix) ? null : request.KeyPrefix,
            NewestFirst = request.NewestFirst,
            Skip = request.Skip,
            Take = request.Take,
        });

        TaskRow[] rows = new TaskRow[page.Items.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = ToRow(page.Items[i]);
        }

        return new TaskTablePage(supervisor.Name, page.TotalCount, request.Skip, request.Take, rows);
    }

    public static Task<CancelResult> CancelAsync(ITaskSupervisor supervisor, string key, TimeSpan timeout, CancellationToken cancellationToken) =>
        supervisor.CancelAsync(key, timeout, cancellationToken);

    public static Task<CancelWhereResult> CancelPrefixAsync(ITaskSupervisor supervisor, string keyPrefix, TimeSpan timeout, CancellationToken cancellationToken) =>
        supervisor.CancelWhereAsync(key => key.StartsWith(keyPrefix, StringComparison.Ordinal), timeout, cancellationToken);

    private static TaskRow ToRow(SupervisedTaskInfo info)
    {
        ErrorSummary? lastError = info.LastException is { } exception
            ? new ErrorSummary(exception.GetType().FullName ?? exception.GetType().Name, Cut(exception.Message))
            : null;
        return new TaskRow(info.Id, info.Key, info.Name, info.Status, info.StartedAt, info.Age.TotalMilliseconds, info.RestartCount, lastError);
    }

    private static string Cut(string text) =>
        text.Length <= DashboardConstants.MaxMessageLength ? text : string.Concat(text.AsSpan(0, DashboardConstants.MaxMessageLength), "…");
}
