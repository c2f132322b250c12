using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TaskSupervision.Hangfire.Tests.Infrastructure;

/// <summary>A logger provider that keeps every event and lets a test wait for one by its event id.</summary>
public sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<(EventId Id, string Message)> _events = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _waits = new();

    public IReadOnlyList<(EventId Id, string Message)> Events => [.. _events];

    /// <summary>Completes when an event with <paramref name="eventId"/> has been logged (at once if it has been already).</summary>
    public Task WhenLogged(int eventId) => Signal(eventId).Task;

    public ILogger CreateLogger(string categoryName) => new Recorder(this);

    public void Dispose()
    {
    }

    private TaskCompletionSource Signal(int eventId) =>
        _waits.GetOrAdd(eventId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private sealed class Recorder(LogRecorder owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner._events.Enqueue((eventId, formatter(state, exception)));
            owner.Signal(eventId.Id).TrySetResult();
        }
    }
}
