using TaskSupervision.AspNetCore.Internal;

namespace TaskSupervision.AspNetCore.Tests;

public sealed class OutcomeWindowTests
{
    [Fact]
    public void Record_AClockThatGoesBackBeforeTheStart_CountsInTheLatestSlot_AndNeverThrows()
    {
        // A TimeProvider need not be monotonic. Before, a time before the window's start gave a slot below zero, and an
        // IndexOutOfRangeException in a task's end.
        var clock = new SettableClock { Seconds = 100 };
        var window = new OutcomeWindow(clock, TimeSpan.FromMinutes(1));
        window.Record(SupervisedTaskStatus.Faulted, gaveUp: false);

        clock.Seconds = 70;
        window.Record(SupervisedTaskStatus.Faulted, gaveUp: true);

        window.GetCounts().Should().Be(new OutcomeCounts(Completed: 0, Canceled: 0, Faulted: 2, TimedOut: 0, GaveUp: 1));
    }

    /// <summary>A clock set by hand, which may be set back.</summary>
    private sealed class SettableClock : TimeProvider
    {
        public long Seconds { get; set; }

        public override long TimestampFrequency => 1;

        public override long GetTimestamp() => Seconds;
    }
}
