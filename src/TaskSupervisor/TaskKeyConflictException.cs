namespace TaskSupervision;

/// <summary>
/// Thrown by a keyed start when a task with the same key is already tracked and the conflict behaviour is
/// <see cref="KeyConflictBehavior.Reject"/>.
/// </summary>
public sealed class TaskKeyConflictException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    /// <param name="key">The key that is already in use.</param>
    public TaskKeyConflictException(string key)
        : base($"A supervised task with key '{key}' is already running. Use TryRun, or set TaskOptions.IfKeyRunning to Replace or UseExisting.")
    {
        Key = key;
    }

    /// <summary>The key that is already in use.</summary>
    public string Key { get; }
}
