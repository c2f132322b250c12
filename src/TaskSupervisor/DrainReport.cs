namespace TaskSupervision;

/// <summary>
/// What a drain (<see cref="ITaskSupervisor.DrainAsync"/> or disposal) did: how each task tracked when it began ended,
/// and which were still running at its deadline. Also kept in <see cref="TaskSupervisor.LastDrainReport"/>.
/// </summary>
/// <remarks>
/// The counts are outcomes, not requests: a task the drain asked to cancel that then completed counts as completed.
/// <see cref="TasksAtStart"/> is their sum with the stragglers, exactly.
/// </remarks>
public sealed class DrainReport
{
    /// <summary>Creates a report.</summary>
    /// <param name="completed">Tasks that ran to completion during the drain.</param>
    /// <param name="canceled">Tasks that ended canceled during the drain (pending tasks that never ran included).</param>
    /// <param name="faulted">Tasks that faulted during the drain (given-up tasks included).</param>
    /// <param name="timedOut">Tasks that ended because their own <see cref="TaskOptions.Timeout"/> elapsed during the drain.</param>
    /// <param name="stragglers">The tasks still running when the drain's deadline elapsed.</param>
    /// <param name="elapsed">How long the drain took.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stragglers"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public DrainReport(int completed, int canceled, int faulted, int timedOut, IReadOnlyList<SupervisedTaskInfo> stragglers, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(stragglers);
        ArgumentOutOfRangeException.ThrowIfNegative(completed);
        ArgumentOutOfRangeException.ThrowIfNegative(canceled);
        ArgumentOutOfRangeException.ThrowIfNegative(faulted);
        ArgumentOutOfRangeException.ThrowIfNegative(timedOut);
        Completed = completed;
        Canceled = canceled;
        Faulted = faulted;
        TimedOut = timedOut;
        Stragglers = stragglers;
        Elapsed = elapsed;
    }

    /// <summary>
    /// The number of tasks tracked (pending or running) when the drain began: <see cref="Completed"/> +
    /// <see cref="Canceled"/> + <see cref="Faulted"/> + <see cref="TimedOut"/> + the number of <see cref="Stragglers"/>.
    /// </summary>
    public int TasksAtStart => Completed + Canceled + Faulted + TimedOut + Stragglers.Count;

    /// <summary>The tasks that ran to completion during the drain, whether or not they were asked to cancel.</summary>
    public int Completed { get; }

    /// <summary>The tasks that ended canceled during the drain, pending tasks that never ran included.</summary>
    public int Canceled { get; }

    /// <summary>The tasks that faulted during the drain (with their real exception, never restarted once the drain began).</summary>
    public int Faulted { get; }

    /// <summary>The tasks that ended because their own <see cref="TaskOptions.Timeout"/> elapsed during the drain.</summary>
    public int TimedOut { get; }

    /// <summary>
    /// The tasks still running when the drain's deadline elapsed. They stay tracked and keep running: a task that ignores
    /// its <see cref="CancellationToken"/> cannot be stopped, only reported. Each one was logged by key and name.
    /// </summary>
    public IReadOnlyList<SupervisedTaskInfo> Stragglers { get; }

    /// <summary>How long the drain took, by the supervisor's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary><see langword="true"/> when every task ended within the deadline.</summary>
    public bool IsComplete => Stragglers.Count == 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"drained {TasksAtStart} task(s) in {Elapsed.TotalMilliseconds:0} ms: {Completed} completed, {Canceled} canceled, {Faulted} faulted, {TimedOut} timed out, {Stragglers.Count} straggler(s)";
}
