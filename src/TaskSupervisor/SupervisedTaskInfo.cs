namespace TaskSupervision;

/// <summary>A point-in-time description of a tracked task, as returned by <see cref="ITaskSupervisor.GetSnapshot"/>.</summary>
/// <remarks>This is a copy: it does not change when the task does, and holding it keeps no task alive.</remarks>
public readonly struct SupervisedTaskInfo
{
    /// <summary>Creates a description.</summary>
    /// <param name="id">The task's id.</param>
    /// <param name="key">The task's key, if any.</param>
    /// <param name="name">The task's name, if any.</param>
    /// <param name="status">The task's status when the snapshot was taken.</param>
    /// <param name="startedAt">When the supervisor accepted the task.</param>
    /// <param name="age">How long the task had been tracked when the snapshot was taken.</param>
    public SupervisedTaskInfo(long id, string? key, string? name, SupervisedTaskStatus status, DateTimeOffset startedAt, TimeSpan age)
    {
        Id = id;
        Key = key;
        Name = name;
        Status = status;
        StartedAt = startedAt;
        Age = age;
    }

    /// <summary>The task's id, unique within its supervisor.</summary>
    public long Id { get; }

    /// <summary>The task's key, or <see langword="null"/> for unkeyed work.</summary>
    public string? Key { get; }

    /// <summary>The task's name (<see cref="TaskOptions.Name"/>), or <see langword="null"/>.</summary>
    public string? Name { get; }

    /// <summary>The task's status when the snapshot was taken.</summary>
    public SupervisedTaskStatus Status { get; }

    /// <summary>When the supervisor accepted the task, by the supervisor's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>How long the task had been tracked when the snapshot was taken.</summary>
    public TimeSpan Age { get; }

    /// <inheritdoc />
    public override string ToString() => $"#{Id} key={Key ?? "-"} name={Name ?? "-"} {Status} age={Age.TotalMilliseconds:0}ms";
}
