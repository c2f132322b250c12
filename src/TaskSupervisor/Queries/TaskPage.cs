namespace TaskSupervision;

/// <summary>One page of tracked tasks, as returned by <see cref="ITaskSupervisor.GetTasks"/>.</summary>
/// <remarks>
/// A copy taken in one pass over the supervisor's tasks: it does not change when they do. The pass is not an atomic
/// snapshot of the whole supervisor (tasks start and end while it runs), so two pages may both miss, or both show, a
/// task that started or ended between the two calls.
/// </remarks>
public sealed class TaskPage
{
    /// <summary>Creates a page (for tests and for fakes of <see cref="ITaskSupervisor"/>).</summary>
    /// <param name="items">The tasks on the page, in the query's order.</param>
    /// <param name="totalCount">The number of tracked tasks that matched the query's filters, on any page.</param>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="totalCount"/> is smaller than the number of items.</exception>
    public TaskPage(IReadOnlyList<SupervisedTaskInfo> items, int totalCount)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalCount, items.Count);
        Items = items;
        TotalCount = totalCount;
    }

    /// <summary>The tasks on the page, in the query's order (by <see cref="SupervisedTaskInfo.Id"/>).</summary>
    public IReadOnlyList<SupervisedTaskInfo> Items { get; }

    /// <summary>The number of tracked tasks that matched the query's filters when the page was taken, on any page.</summary>
    public int TotalCount { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Items.Count} of {TotalCount} task(s)";
}
