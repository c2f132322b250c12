namespace TaskSupervision;

/// <summary>What a drain (<see cref="ITaskSupervisor.DrainAsync"/> or disposal) did.</summary>
public sealed class DrainReport
{
    /// <summary>Creates a report.</summary>
    /// <param name="tasksAtStart">The number of tasks tracked when the drain began.</param>
    /// <param name="canceled">The number of tasks still running after the grace period, which were asked to cancel.</param>
    /// <param name="stragglers">The tasks still running when the drain timed out.</param>
    /// <param name="elapsed">How long the drain took.</param>
    public DrainReport(int tasksAtStart, int canceled, IReadOnlyList<SupervisedTaskInfo> stragglers, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(stragglers);
        TasksAtStart = tasksAtStart;
        Canceled = canceled;
        Stragglers = stragglers;
        Elapsed = elapsed;
    }

    /// <summary>The number of tasks tracked (pending or running) when the drain began.</summary>
    public int TasksAtStart { get; }

    /// <summary>The number of tasks still running after the grace period, which the drain asked to cancel.</summary>
    public int Canceled { get; }

    /// <summary>
    /// The tasks still running when the drain's timeout elapsed. They stay tracked and keep running: a task that ignores
    /// its <see cref="CancellationToken"/> cannot be stopped, only reported. Each one was logged by key and name.
    /// </summary>
    public IReadOnlyList<SupervisedTaskInfo> Stragglers { get; }

    /// <summary>How long the drain took, by the supervisor's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary><see langword="true"/> when every task ended within the timeout.</summary>
    public bool IsComplete => Stragglers.Count == 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"drained {TasksAtStart} task(s) in {Elapsed.TotalMilliseconds:0} ms: {Canceled} canceled, {Stragglers.Count} straggler(s)";
}
