using TaskSupervision.Internal;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>
/// What the dashboard keeps about one supervisor's ended tasks: outcome counts over the recent window and the ring of recent
/// failures. Hooked into the supervisor's <see cref="TaskSupervisorOptions.OnTaskEnded"/>; constant memory.
/// </summary>
internal sealed class SupervisorRecorder
{
    private readonly TimeProvider _timeProvider;
    private readonly bool _includeDetails;

    public SupervisorRecorder(TimeProvider timeProvider, TimeSpan window, int failureCapacity, bool includeDetails)
    {
        _timeProvider = timeProvider;
        _includeDetails = includeDetails;
        Outcomes = new OutcomeWindow(timeProvider, window);
        Failures = new FailureRing(failureCapacity);
    }

    public OutcomeWindow Outcomes { get; }

    public FailureRing Failures { get; }

    /// <summary>The supervisor's <see cref="TaskSupervisorOptions.MaxConcurrency"/>, as its options were configured.</summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>The supervisor's <see cref="TaskSupervisorOptions.MaxPending"/>, as its options were configured.</summary>
    public int? MaxPending { get; set; }

    /// <summary>Records one task's end. Called by the supervisor on the thread that ended the task; cheap unless the task failed.</summary>
    public void Record(TaskEndedArguments arguments)
    {
        Outcomes.Record(arguments.Status, arguments.GaveUp);
        if (arguments.Status is not (SupervisedTaskStatus.Faulted or SupervisedTaskStatus.TimedOut))
        {
            return;
        }

        Exception? exception = arguments.Exception;
        Failures.Add(new FailureRecord(
            _timeProvider.GetUtcNow(),
            arguments.Task.Id,
            arguments.Key,
            arguments.Name,
            arguments.Status,
            arguments.GaveUp,
            arguments.RestartCount,
            arguments.Elapsed,
            exception?.GetType().FullName ?? "(none)",
            Cut(exception?.Message ?? string.Empty, DashboardConstants.MaxMessageLength),
            _includeDetails && exception is not null ? Cut(exception.ToString(), DashboardConstants.MaxStackTraceLength) : null));
    }

    private static string Cut(string text, int length) => text.Length <= length ? text : string.Concat(text.AsSpan(0, length), "…");
}
