using Microsoft.Extensions.Logging;

namespace TaskSupervision.Internal;

/// <summary>
/// Wraps the user's logger so that a logger that throws can never stop a task from ending, a callback from running or a
/// drain from finishing. What it fails to log is dropped: there is nowhere safer to report it.
/// </summary>
internal sealed class ContainedLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        try
        {
            return inner.BeginScope(state);
        }
        catch (Exception)
        {
            return null;
        }
    }

    public bool IsEnabled(LogLevel logLevel)
    {
        try
        {
            return inner.IsEnabled(logLevel);
        }
        catch (Exception)
        {
            return false;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
        catch (Exception)
        {
            // Contained on purpose; see the type's summary.
        }
    }
}
