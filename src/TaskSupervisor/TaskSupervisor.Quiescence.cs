namespace TaskSupervision;

/// <summary>The wait for quiescence: no task tracked at all.</summary>
public sealed partial class TaskSupervisor
{
    /// <summary>The quiescence waits attached now (for tests: a cancelled wait must be gone at once).</summary>
    internal int AttachedQuiescenceWaits => _quiescence.Attached;

    /// <inheritdoc />
    public Task WhenQuiescentAsync(CancellationToken cancellationToken = default) => _quiescence.WhenQuiescent(cancellationToken);
}
