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

internal static class TestExtensions
{
    /// <summary>A bound on every wait in the tests: a hang fails the test instead of the run. Never a way to let things settle.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static Task Within(this Task task) => task.WaitAsync(Bound);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Bound);

    /// <summary>
    /// Advances the fake clock by <paramref name="step"/> until <paramref name="condition"/> holds, yielding to the thread pool
    /// between steps. With <paramref name="advanceOnlyWhen"/>, the clock moves only while it holds (for example while a task
    /// waits out a backoff), so a slow machine never lets fake time run ahead of the work. Bounded by <see cref="Bound"/> of
    /// real time: a hang fails the test.
    /// </summary>
    public static async Task AdvanceUntil(this FakeTimeProvider time, Func<bool> condition, TimeSpan step, Func<bool>? advanceOnlyWhen = null)
    {
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!condition() && bound.Elapsed < Bound)
        {
            if (advanceOnlyWhen is null || advanceOnlyWhen())
            {
                time.Advance(step);
            }

            await Task.Yield();
        }

        condition().Should().BeTrue("the condition should hold within {0} of real time", Bound);
    }

    public static string? State(this FakeLogRecord record, string key) => record.GetStructuredStateValue(key);
}
