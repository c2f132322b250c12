namespace TaskSupervision;

/// <summary>
/// How a supervised task ended, passed to <see cref="TaskOptions.OnEnded"/> and <see cref="TaskSupervisorOptions.OnTaskEnded"/>.
/// </summary>
/// <remarks>A readonly struct so that fields can be added later without breaking callbacks.</remarks>
public readonly struct TaskEndedArguments
{
    /// <summary>Creates the arguments. Public so that user code can test its callbacks.</summary>
    /// <param name="task">The task that ended.</param>
    /// <param name="status">How it ended: <see cref="SupervisedTaskStatus.RanToCompletion"/>, <see cref="SupervisedTaskStatus.Canceled"/> or <see cref="SupervisedTaskStatus.Faulted"/>.</param>
    /// <param name="exception">The exception of a faulted task; otherwise <see langword="null"/>.</param>
    /// <param name="elapsed">The time from the task's start to its end.</param>
    /// <param name="restartCount">How many times the task was restarted before it ended.</param>
    /// <param name="gaveUp">Whether the supervisor gave up restarting the task (its restart intensity was exceeded).</param>
    public TaskEndedArguments(SupervisedTask task, SupervisedTaskStatus status, Exception? exception, TimeSpan elapsed, int restartCount = 0, bool gaveUp = false)
    {
        ArgumentNullException.ThrowIfNull(task);
        Task = task;
        Status = status;
        Exception = exception;
        Elapsed = elapsed;
        RestartCount = restartCount;
        GaveUp = gaveUp;
    }

    /// <summary>How many times the task was restarted before it ended.</summary>
    public int RestartCount { get; }

    /// <summary>
    /// <see langword="true"/> when the supervisor gave up restarting the task because it restarted more than
    /// <see cref="RestartPolicy.MaxRestarts"/> times within <see cref="RestartPolicy.Window"/>; the status is then
    /// <see cref="SupervisedTaskStatus.Faulted"/> with the last failure.
    /// </summary>
    public bool GaveUp { get; }

    /// <summary>The handle of the task that ended.</summary>
    public SupervisedTask Task { get; }

    /// <summary>How the task ended.</summary>
    public SupervisedTaskStatus Status { get; }

    /// <summary>The exception of a faulted or timed-out task; otherwise <see langword="null"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>The time from the task's start (<see cref="SupervisedTask.StartedAt"/>) to its end.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The task's key, or <see langword="null"/>.</summary>
    public string? Key => Task?.Key;

    /// <summary>The task's name, or <see langword="null"/>.</summary>
    public string? Name => Task?.Name;
}
