namespace TaskSupervision.Testing;

/// <summary>How one supervised task ended, as recorded by a <see cref="TestSupervisor"/>.</summary>
/// <remarks>A copy taken when the task ended (from <see cref="TaskEndedArguments"/>): it keeps the exception, not the task.</remarks>
public sealed class EndedTaskRecord
{
    internal EndedTaskRecord(in TaskEndedArguments ended)
    {
        Id = ended.Task.Id;
        Key = ended.Key;
        Name = ended.Name;
        Status = ended.Status;
        Exception = ended.Exception;
        Elapsed = ended.Elapsed;
        RestartCount = ended.RestartCount;
        GaveUp = ended.GaveUp;
        IsCritical = ended.Task.IsCritical;
    }

    /// <summary>The task's id.</summary>
    public long Id { get; }

    /// <summary>The task's key, or <see langword="null"/> for unkeyed work.</summary>
    public string? Key { get; }

    /// <summary>The task's name (<see cref="TaskOptions.Name"/>), or <see langword="null"/>.</summary>
    public string? Name { get; }

    /// <summary>How the task ended.</summary>
    public SupervisedTaskStatus Status { get; }

    /// <summary>The exception of a faulted or timed-out task; otherwise <see langword="null"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>How long the task was tracked, by the supervisor's clock.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>How many times the task was restarted by its restart policy.</summary>
    public int RestartCount { get; }

    /// <summary>Whether the supervisor gave up restarting it.</summary>
    public bool GaveUp { get; }

    /// <summary>Whether the task was started as critical.</summary>
    public bool IsCritical { get; }

    /// <summary>Whether the task failed: it faulted or timed out.</summary>
    public bool Failed => Status is SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut;

    /// <inheritdoc />
    public override string ToString() =>
        $"#{Id} key={Key ?? "-"} name={Name ?? "-"} {Status}{(Exception is null ? "" : ": " + Exception.GetType().Name + ": " + Exception.Message)}";
}
