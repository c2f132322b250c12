namespace TaskSupervision;

/// <summary>
/// Thrown by <c>Run</c> and <c>RunAsync</c> when the supervisor accepts no more work: a drain has begun
/// (<see cref="ITaskSupervisor.DrainAsync"/>, disposal) or has ended. <c>TryRun</c> returns <see langword="false"/> with
/// <see cref="StartRefusal.Closed"/> instead.
/// </summary>
/// <remarks>
/// It derives from <see cref="ObjectDisposedException"/>, so that code that catches that (as it did before this type
/// existed, and as for any disposed object) keeps working; catch this type to tell a closed supervisor from another
/// disposed object.
/// </remarks>
public sealed class SupervisorClosedException : ObjectDisposedException
{
    /// <summary>Creates the exception for the supervisor named <paramref name="supervisorName"/>.</summary>
    /// <param name="supervisorName">The supervisor's name (<see cref="ITaskSupervisor.Name"/>).</param>
    /// <param name="isDraining">Whether its drain is still in progress; <see langword="false"/> once it has ended.</param>
    public SupervisorClosedException(string supervisorName, bool isDraining)
        : base(
            typeof(TaskSupervisor).FullName,
            isDraining
                ? $"The task supervisor '{supervisorName}' is draining and accepts no more work."
                : $"The task supervisor '{supervisorName}' has been drained or disposed and accepts no more work.")
    {
        SupervisorName = supervisorName;
        IsDraining = isDraining;
    }

    /// <summary>The name of the supervisor that refused the work.</summary>
    public string SupervisorName { get; }

    /// <summary>
    /// <see langword="true"/> if the supervisor's drain was still in progress when it refused the work;
    /// <see langword="false"/> if the drain had ended (the supervisor is drained or disposed).
    /// </summary>
    public bool IsDraining { get; }
}
