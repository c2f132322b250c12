using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>
/// What <see cref="ITaskSupervisor.GetTasks"/> returns: the tracked tasks that match every filter set here, ordered by
/// age, one page at a time.
/// </summary>
/// <remarks>
/// <para>Setting a property never throws (so that a query can be bound from a request or from configuration); the values
/// are checked by <see cref="ITaskSupervisor.GetTasks"/>, which throws <see cref="ArgumentOutOfRangeException"/> for a
/// negative <see cref="Skip"/> or a <see cref="Take"/> outside 0 to <see cref="MaxTake"/>.</para>
/// <para>Immutable once built; one instance can be shared.</para>
/// </remarks>
public sealed class TaskQuery
{
    /// <summary>The largest page <see cref="Take"/> accepts: 1000.</summary>
    /// <remarks>
    /// A page is copied, so its size is what one call costs in memory: a caller that wants more pages through with
    /// <see cref="Skip"/> (each call's memory is bounded by <see cref="Skip"/> + <see cref="Take"/>, never by the number of
    /// tasks tracked).
    /// </remarks>
    public const int MaxTake = TaskSupervisorConstants.MaxQueryTake;

    /// <summary>The page size when <see cref="Take"/> is not set: 100.</summary>
    public const int DefaultTake = TaskSupervisorConstants.DefaultQueryTake;

    /// <summary>Only tasks in this status; <see langword="null"/> for every status.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public SupervisedTaskStatus? Status { get; init; }

    /// <summary>
    /// Only keyed tasks whose key starts with this prefix, compared ordinally (case-sensitive, culture-free, like keys
    /// themselves); <see langword="null"/> for every task, keyed or not. The empty string matches every keyed task.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? KeyPrefix { get; init; }

    /// <summary>
    /// Order newest first (highest <see cref="SupervisedTask.Id"/> first) instead of oldest first. Ids increase in start
    /// order, so oldest first puts the tasks that have been tracked longest (the likely stuck ones) on the first page.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: oldest first.</value>
    public bool NewestFirst { get; init; }

    /// <summary>How many matching tasks to pass over, in the order chosen, before the page starts.</summary>
    /// <value>Defaults to 0. Must not be negative.</value>
    public int Skip { get; init; }

    /// <summary>The most tasks the page holds. 0 returns no task, only <see cref="TaskPage.TotalCount"/>.</summary>
    /// <value>Defaults to <see cref="DefaultTake"/>. Must be 0 to <see cref="MaxTake"/>.</value>
    public int Take { get; init; } = DefaultTake;

    /// <inheritdoc />
    public override string ToString() =>
        $"status={Status?.ToString() ?? "any"} keyPrefix={KeyPrefix ?? "-"} {(NewestFirst ? "newest" : "oldest")} first, skip {Skip}, take {Take}";
}
