using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Tests;

/// <summary>A supervisor on a fake clock with its logs collected, for one test.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public Harness(Action<TaskSupervisorOptions>? configure = null)
    {
        var options = new TaskSupervisorOptions { TimeProvider = Time, Name = "test" };
        configure?.Invoke(options);
        LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(builder =>
            builder.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
        Supervisor = new TaskSupervisor(options, LoggerFactory);
    }

    public TrackingTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public FakeLogCollector Logs { get; } = new();

    public ILoggerFactory LoggerFactory { get; }

    public TaskSupervisor Supervisor { get; }

    public IReadOnlyList<FakeLogRecord> LogsWithEvent(string eventName) =>
        Logs.GetSnapshot().Where(r => r.Id.Name == eventName).ToList();

    public async ValueTask DisposeAsync()
    {
        // Tests that leave a task ignoring its token must not hang here: drain on the fake clock.
        Task<DrainReport> drain = Supervisor.DrainAsync(TimeSpan.FromSeconds(1));
        Time.Advance(TimeSpan.FromSeconds(1));
        await drain.Within();
        LoggerFactory.Dispose();
    }
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts its one-shot timers not yet fired nor disposed, so that a test can move
/// the clock only while the code under test really waits on it (a restart's backoff), never while the work it has just
/// released is still on its way to the thread pool.
/// </summary>
internal sealed class TrackingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _armed;

    /// <summary>One-shot timers created and neither fired nor disposed.</summary>
    public int ArmedTimers => Volatile.Read(ref _armed);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (period != Timeout.InfiniteTimeSpan || dueTime == Timeout.InfiniteTimeSpan)
        {
            return base.CreateTimer(callback, state, dueTime, period);
        }

        Interlocked.Increment(ref _armed);
        var tracked = new TrackedTimer(this, callback, state);
        tracked.Inner = base.CreateTimer(static s => ((TrackedTimer)s!).Fire(), tracked, dueTime, period);
        return tracked;
    }

    private sealed class TrackedTimer(TrackingTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private int _done;

        public ITimer Inner { get; set; } = null!;

        public void Fire()
        {
            Done();
            callback(state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period) => Inner.Change(dueTime, period);

        public void Dispose()
        {
            Done();
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Done()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Interlocked.Decrement(ref owner._armed);
            }
        }
    }
}

internal static class LogRecordExtensions
{
    public static string? State(this FakeLogRecord record, string key) => record.GetStructuredStateValue(key);
}
