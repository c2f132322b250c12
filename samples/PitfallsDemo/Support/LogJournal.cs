using System.Collections.Concurrent;

namespace PitfallsDemo.Support;

/// <summary>One log record as the journal keeps it.</summary>
internal sealed record LogRecord(LogLevel Level, string? EventName, string Category, string Message, string? TaskKey, Exception? Exception);

/// <summary>
/// A logger provider that keeps the app's recent log records and counts the supervisor's <c>TaskFaulted</c> errors, so that
/// "faults logged" is a count of real log records, not of something the demo decided to increment.
/// </summary>
[ProviderAlias("Journal")]
internal sealed class LogJournal : ILoggerProvider
{
    private const int Capacity = 500;
    private readonly ConcurrentQueue<LogRecord> _records = new();

    /// <summary>Error-level records with the event name <c>TaskFaulted</c>.</summary>
    public SignalingCounter FaultsLogged { get; } = new();

    public IReadOnlyList<LogRecord> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new JournalLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogRecord record)
    {
        _records.Enqueue(record);
        while (_records.Count > Capacity && _records.TryDequeue(out _))
        {
        }

        if (record is { Level: LogLevel.Error, EventName: "TaskFaulted" })
        {
            FaultsLogged.Increment();
        }
    }

    private sealed class JournalLogger(LogJournal journal, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string? key = null;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                key = fields.FirstOrDefault(static f => f.Key == "TaskKey").Value as string;
            }

            journal.Add(new LogRecord(logLevel, eventId.Name, category, formatter(state, exception), key, exception));
        }
    }
}
