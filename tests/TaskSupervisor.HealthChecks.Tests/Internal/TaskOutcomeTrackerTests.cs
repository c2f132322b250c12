using Microsoft.Extensions.Time.Testing;
using TaskSupervision.HealthChecks.Internal;

namespace TaskSupervision.HealthChecks.Tests.Internal;

public sealed class TaskOutcomeTrackerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Window_IsSplitInSixtyBuckets_AndAnEventLeavesWithinOneBucketOfTheWindow()
    {
        var tracker = new TaskOutcomeTracker(_time, TimeSpan.FromMinutes(1));
        tracker.Record(Ended(SupervisedTaskStatus.Faulted));

        _time.Advance(TimeSpan.FromSeconds(59));
        tracker.GetCounts().Should().Be(new OutcomeCounts(1, 1, 0));

        _time.Advance(TimeSpan.FromSeconds(1));
        tracker.GetCounts().Should().Be(new OutcomeCounts(0, 0, 0));
    }

    [Fact]
    public void Buckets_AreReusedOnLaterLaps_SoMemoryNeverGrows()
    {
        var tracker = new TaskOutcomeTracker(_time, TimeSpan.FromMinutes(1));
        for (int lap = 0; lap < 3; lap++)
        {
            for (int second = 0; second < 60; second++)
            {
                tracker.Record(Ended(second % 2 == 0 ? SupervisedTaskStatus.Faulted : SupervisedTaskStatus.RanToCompletion));
                _time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        tracker.GetCounts().Should().Be(new OutcomeCounts(59, 29, 0), "only the last 59 seconds are within the window now");
    }

    [Fact]
    public async Task Record_FromManyThreads_CountsEveryEnd()
    {
        var tracker = new TaskOutcomeTracker(_time, TimeSpan.FromMinutes(1));
        TaskEndedArguments faulted = Ended(SupervisedTaskStatus.Faulted, gaveUp: true);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                tracker.Record(faulted);
            }
        }))).Within();

        tracker.GetCounts().Should().Be(new OutcomeCounts(40_000, 40_000, 40_000));
    }

    [Theory]
    [InlineData(SupervisedTaskStatus.RanToCompletion, 0)]
    [InlineData(SupervisedTaskStatus.Canceled, 0)]
    [InlineData(SupervisedTaskStatus.Faulted, 1)]
    [InlineData(SupervisedTaskStatus.TimedOut, 1)]
    public void Record_CountsFaultedAndTimedOutAsFailures(SupervisedTaskStatus status, long faulted)
    {
        var tracker = new TaskOutcomeTracker(_time, TimeSpan.FromMinutes(1));

        tracker.Record(Ended(status));

        tracker.GetCounts().Should().Be(new OutcomeCounts(1, faulted, 0));
    }

    private static readonly SupervisedTask s_task = CreateTask();

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
        // A TimeProvider need not be monotonic. Before, a time before the tracker's start gave a slot below zero, and an
        // IndexOutOfRangeException in a task's end.
        var clock = new SettableClock { Seconds = 100 };
        var tracker = new TaskOutcomeTracker(clock, TimeSpan.FromMinutes(1));
        tracker.Record(Ended(SupervisedTaskStatus.Faulted));

        clock.Seconds = 70;
        tracker.Record(Ended(SupervisedTaskStatus.Faulted));

        tracker.GetCounts().Should().Be(new OutcomeCounts(2, 2, 0));
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
