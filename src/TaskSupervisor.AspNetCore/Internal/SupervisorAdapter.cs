namespace TaskSupervision.AspNetCore.Internal;

/// <summary>A request for one page of a supervisor's tasks.</summary>
internal readonly record struct TaskPageRequest(SupervisedTaskStatus? Status, string? KeyPrefix, bool NewestFirst, int Skip, int Take);

/// <summary>How a cancel-by-prefix went: how many tasks matched, and how each ended within the timeout.</summary>
internal readonly record struct PrefixCancelOutcome(int Matched, IReadOnlyDictionary<string, int> Results);

/// <summary>
/// Every read and action the dashboard takes on an <see cref="ITaskSupervisor"/>, in one place, so that the rest of the
/// package does not depend on which members the core offers.
/// </summary>
internal static class SupervisorAdapter
{
    public static int Running(ITaskSupervisor supervisor) => Math.Max(0, supervisor.Count - supervisor.PendingCount);

    // The core does not say yet whether a supervisor is draining, nor how its last drain went: unknown until it does.
    public static bool? IsDraining(ITaskSupervisor supervisor)
    {
        ArgumentNullException.ThrowIfNull(supervisor);
        return null;
    }

    public static DrainSummary? LastDrain(ITaskSupervisor supervisor)
    {
        ArgumentNullException.ThrowIfNull(supervisor);
        return null;
    }

    public static TaskPage GetPage(ITaskSupervisor supervisor, TaskPageRequest request)
    {
        // The core's snapshot copies every task; the filtered list holds only references into it.
        IReadOnlyList<SupervisedTaskInfo> all = supervisor.GetSnapshot();
        List<SupervisedTaskInfo> matching = new(all.Count);
        foreach (SupervisedTaskInfo info in all)
        {
            if (Matches(info, request.Status, request.KeyPrefix))
            {
                matching.Add(info);
            }
        }

        // Ids grow with each start, so the id orders by age without ties.
        matching.Sort(request.NewestFirst ? static (a, b) => b.Id.CompareTo(a.Id) : static (a, b) => a.Id.CompareTo(b.Id));
        int end = (int)Math.Min(matching.Count, (long)request.Skip + request.Take);
        List<TaskRow> rows = new(Math.Max(0, end - request.Skip));
        for (int i = request.Skip; i < end; i++)
        {
            rows.Add(ToRow(supervisor, matching[i]));
        }

        return new TaskPage(supervisor.Name, matching.Count, request.Skip, request.Take, rows);
    }

    public static Task<CancelResult> CancelAsync(ITaskSupervisor supervisor, string key, TimeSpan timeout, CancellationToken cancellationToken) =>
        supervisor.CancelAsync(key, timeout, cancellationToken);

    public static async Task<PrefixCancelOutcome> CancelPrefixAsync(ITaskSupervisor supervisor, string keyPrefix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        HashSet<string> keys = new(StringComparer.Ordinal);
        foreach (SupervisedTaskInfo info in supervisor.GetSnapshot())
        {
            if (info.Key is { } key && key.StartsWith(keyPrefix, StringComparison.Ordinal))
            {
                keys.Add(key);
            }
        }

        CancelResult[] results = await Task.WhenAll(keys.Select(key => supervisor.CancelAsync(key, timeout, cancellationToken))).ConfigureAwait(false);
        return new PrefixCancelOutcome(keys.Count, Count(results));
    }

    private static Dictionary<string, int> Count(IEnumerable<CancelResult> results)
    {
        Dictionary<string, int> counts = new(StringComparer.Ordinal);
        foreach (CancelResult result in results)
        {
            string name = result.ToString();
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }

        return counts;
    }

    private static bool Matches(SupervisedTaskInfo info, SupervisedTaskStatus? status, string? keyPrefix) =>
        (status is null || info.Status == status)
        && (string.IsNullOrEmpty(keyPrefix) || (info.Key is { } key && key.StartsWith(keyPrefix, StringComparison.Ordinal)));

    private static TaskRow ToRow(ITaskSupervisor supervisor, SupervisedTaskInfo info)
    {
        // Restarts and the last error are read from the live handle of the page's keyed tasks only: at most one page's worth.
        int restarts = 0;
        ErrorSummary? lastError = null;
        if (info.Key is { } key && supervisor.TryGetTask(key, out SupervisedTask? task) && task.Id == info.Id)
        {
            restarts = task.RestartCount;
            if (task.LastException is { } exception)
            {
                lastError = new ErrorSummary(exception.GetType().FullName ?? exception.GetType().Name, Cut(exception.Message));
            }
        }

        return new TaskRow(info.Id, info.Key, info.Name, info.Status, info.StartedAt, info.Age.TotalMilliseconds, restarts, lastError);
    }

    private static string Cut(string text) =>
        text.Length <= DashboardConstants.MaxMessageLength ? text : string.Concat(text.AsSpan(0, DashboardConstants.MaxMessageLength), "…");
}
