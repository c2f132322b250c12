namespace TaskSupervision;

/// <summary>A point-in-time description of a tracked task, as returned by <see cref="ITaskSupervisor.GetSnapshot"/>.</summary>
/// <remarks>
/// This is a copy: it does not change when the task does, and holding it keeps no task alive. Serialised as JSON
/// (System.Text.Json), <see cref="LastException"/> is left out (an exception does not serialise safely, and its stack
/// trace is not for an HTTP response); <see cref="LastError"/> carries its message.
/// </remarks>
public readonly struct SupervisedTaskInfo
{
    /// <summary>Creates a description.</summary>
    /// <param name="id">The task's id.</param>
    /// <param name="key">The task's key, if any.</param>
    /// <param name="name">The task's name, if any.</param>
    /// <param name="status">The task's status when the snapshot was taken.</param>
    /// <param name="startedAt">When the supervisor accepted the task.</param>
    /// <param name="age">How long the task had been tracked when the snapshot was taken.</param>
    /// <param name="restartCount">How many times the task had been restarted by its restart policy.</param>
    /// <param name="lastException">The exception of its most recent failed attempt, or <see langword="null"/>.</param>
    public SupervisedTaskInfo(long id, string? key, string? name, SupervisedTaskStatus status, DateTimeOffset startedAt, TimeSpan age, int restartCount = 0, Exception? lastException = null)
    {
        RestartCount = restartCount;
        LastException = lastException;
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

    /// <summary>How many times the task had been restarted by its <see cref="RestartPolicy"/> when the snapshot was taken.</summary>
    public int RestartCount { get; }

    /// <summary>
    /// The exception of the task's most recent failed attempt (<see cref="SupervisedTask.LastException"/>), for example
    /// while it waits to restart; <see langword="null"/> if no attempt has failed.
    /// </summary>
    /// <remarks>The one reference a description holds: the exception (and what it references) lives as long as the copy.</remarks>
    [System.Text.Json.Serialization.JsonIgnore]
    public Exception? LastException { get; }

    /// <summary>The message of <see cref="LastException"/>, for logs and JSON (the exception itself is not serialised).</summary>
    public string? LastError => LastException?.Message;

    /// <inheritdoc />
    public override string ToString() => $"#{Id} key={Key ?? "-"} name={Name ?? "-"} {Status} age={Age.TotalMilliseconds:0}ms";
}
