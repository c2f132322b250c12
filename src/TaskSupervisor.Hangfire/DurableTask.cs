namespace TaskSupervision.Hangfire;

/// <summary>The outcome of a durable start: the stored job, and the task that runs it in this process if there is one.</summary>
public sealed class DurableTask
{
    internal DurableTask(string key, string jobId, SupervisedTask? task, bool isExisting)
    {
        Key = key;
        JobId = jobId;
        Task = task;
        IsExisting = isExisting;
    }

    /// <summary>The work's key.</summary>
    public string Key { get; }

    /// <summary>The id of the Hangfire job that stores the work (it shows in Hangfire's dashboard and monitoring API).</summary>
    public string JobId { get; }

    /// <summary>
    /// The supervised task that runs the work in this process; <see langword="null"/> when the start found the key held
    /// by work that runs elsewhere (another process, or a Hangfire server) and
    /// <see cref="KeyConflictBehavior.UseExisting"/> returned that work.
    /// </summary>
    public SupervisedTask? Task { get; }

    /// <summary>
    /// <see langword="true"/> when the key was already held and <see cref="KeyConflictBehavior.UseExisting"/> returned the
    /// work that holds it instead of starting a new one.
    /// </summary>
    public bool IsExisting { get; }
}
