using Microsoft.Extensions.Time.Testing;
using TaskSupervision.Internal;

namespace TaskSupervision.HealthChecks.Tests.Internal;

/// <summary>
/// The outcome window of the health check and the dashboard: one source file (<c>src/Shared/OutcomeWindow.cs</c>),
/// compiled into both packages and tested here.
/// </summary>
public sealed class OutcomeWindowTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Window_IsSplitInSixtyBuckets_AndAnEventLeavesWithinOneBucketOfTheWindow()
    {
        var window = new OutcomeWindow(_time, TimeSpan.FromMinutes(1));
        window.Record(Ended(SupervisedTaskStatus.Faulted));

        _time.Advance(TimeSpan.FromSeconds(59));
        Summary(window.GetCounts()).Should().Be((1L, 1L, 0L));

        _time.Advance(TimeSpan.FromSeconds(1));
        Summary(window.GetCounts()).Should().Be((0L, 0L, 0L));
    }

    [Fact]
    public void Buckets_AreReusedOnLaterLaps_SoMemoryNeverGrows()
    {
        var window = new OutcomeWindow(_time, TimeSpan.FromMinutes(1));
        for (int lap = 0; lap < 3; lap++)
        {
            for (int second = 0; second < 60; second++)
            {
                window.Record(Ended(second % 2 == 0 ? SupervisedTaskStatus.Faulted : SupervisedTaskStatus.RanToCompletion));
                _time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        Summary(window.GetCounts()).Should().Be((59L, 29L, 0L), "only the last 59 seconds are within the window now");
    }

    [Fact]
    public async Task Record_FromManyThreads_CountsEveryEnd()
    {
        var window = new OutcomeWindow(_time, TimeSpan.FromMinutes(1));
        TaskEndedArguments faulted = Ended(SupervisedTaskStatus.Faulted, gaveUp: true);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                window.Record(faulted);
            }
        }))).Within();

        Summary(window.GetCounts()).Should().Be((40_000L, 40_000L, 40_000L));
    }

    [Theory]
    [InlineData(SupervisedTaskStatus.RanToCompletion, 0)]
    [InlineData(SupervisedTaskStatus.Canceled, 0)]
    [InlineData(SupervisedTaskStatus.Faulted, 1)]
    [InlineData(SupervisedTaskStatus.TimedOut, 1)]
    public void Record_CountsFaultedAndTimedOutAsFailures(SupervisedTaskStatus status, long faulted)
    {
        var window = new OutcomeWindow(_time, TimeSpan.FromMinutes(1));

        window.Record(Ended(status));

        Summary(window.GetCounts()).Should().Be((1L, faulted, 0L));
    }

    [Fact]
    public void GetCounts_KeepsEachOutcomeApart()
    {
        var window = new OutcomeWindow(_time, TimeSpan.FromMinutes(1));
        window.Record(SupervisedTaskStatus.RanToCompletion, gaveUp: false);
        window.Record(SupervisedTaskStatus.Canceled, gaveUp: false);
        window.Record(SupervisedTaskStatus.Canceled, gaveUp: false);
        window.Record(SupervisedTaskStatus.Faulted, gaveUp: true);
        window.Record(SupervisedTaskStatus.TimedOut, gaveUp: false);

        window.GetCounts().Should().Be(new OutcomeCounts(Completed: 1, Canceled: 2, Faulted: 1, TimedOut: 1, GaveUp: 1));
        window.GetCounts().Ended.Should().Be(5);
        window.GetCounts().Failed.Should().Be(2);
    }

    private static readonly SupervisedTask s_task = CreateTask();

    /// <summary>What the health check reads: every end, the failures, the give-ups.</summary>
    private static (long Ended, long Failed, long GaveUp) Summary(OutcomeCounts counts) => (counts.Ended, counts.Failed, counts.GaveUp);

    private static SupervisedTask CreateTask()
    {
        var supervisor = new TaskSupervisor();
        SupervisedTask task = supervisor.Run(_ => Task.CompletedTask);
        task.Task.Wait(TestExtensions.Bound);
        return task;
    }

    [Fact]
    public void Record_AClockThatGoesBackBeforeTheStart_CountsInTheLatestSlot_AndNeverThrows()
    {
        // A TimeProvider need not be monotonic. Before, a time before the window's start gave a slot below zero, and an
        // IndexOutOfRangeException in a task's end.
        var clock = new SettableClock { Seconds = 100 };
        var window = new OutcomeWindow(clock, TimeSpan.FromMinutes(1));
        window.Record(Ended(SupervisedTaskStatus.Faulted));

        clock.Seconds = 70;
        window.Record(Ended(SupervisedTaskStatus.Faulted));

        Summary(window.GetCounts()).Should().Be((2L, 2L, 0L));
    }

    /// <summary>A clock set by hand, which may be set back.</summary>
    private sealed class SettableClock : TimeProvider
    {
        public long Seconds { get; set; }

        public override long TimestampFrequency => 1;

        public override long GetTimestamp() => Seconds;
    }

    private static TaskEndedArguments Ended(SupervisedTaskStatus status, bool gaveUp = false) =>
        new(s_task, status, exception: null, TimeSpan.Zero, gaveUp: gaveUp);
}
