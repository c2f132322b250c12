namespace TaskSupervision.Testing;

/// <summary>
/// Thrown by a <see cref="TestSupervisor"/> when a test's background work breaks an expectation: a task faulted that the
/// test did not take (<see cref="TestSupervisor.TakeFailures"/>), or work was still running at the quiescence timeout.
/// </summary>
/// <remarks>
/// A plain exception, not a test framework's assertion type, so that the kit depends on no test framework: xunit, NUnit
/// and MSTest all report an unexpected exception from a test as that test's failure.
/// </remarks>
public sealed class TaskSupervisorAssertionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskSupervisorAssertionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong, naming the tasks.</param>
    public TaskSupervisorAssertionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the first failure as its cause.</summary>
    /// <param name="message">What went wrong, naming the tasks.</param>
    /// <param name="innerException">The exception of the first failed task.</param>
    public TaskSupervisorAssertionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
