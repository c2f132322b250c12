using Microsoft.Extensions.Logging;

namespace TaskSupervision.Tests.Policies;

public sealed class TimeoutTests
{
    [Fact]
    public async Task Timeout_WorkRunsPastIt_EndsTimedOut_LoggedAsSuch_AndDistinctFromCancel()
    {
        var ended = new TaskCompletionSource<TaskEndedArguments>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = new Harness(o => o.OnTaskEnded = e => ended.TrySetResult(e));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        SupervisedTask task = harness.Supervisor.Run("slow", async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); },
            new TaskOptions { Timeout = TimeSpan.FromSeconds(5) });
        await started.Task.Within();
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        task.Status.Should().Be(SupervisedTaskStatus.Running);
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        TaskEndedArguments args = await ended.Task.Within();
        args.Status.Should().Be(SupervisedTaskStatus.TimedOut);

        // The callback runs before the handle shows the end (ended means forgotten first): read the status once it has.
        await task.Task.Awaiting(t => t.Within()).Should().ThrowAsync<TimeoutException>();
        task.Status.Should().Be(SupervisedTaskStatus.TimedOut);
        task.IsCancellationRequested.Should().BeFalse("nobody cancelled the task; its attempt timed out");
        var log = harness.LogsWithEvent("TaskTimedOut").Should().ContainSingle().Which;
        log.Level.Should().Be(LogLevel.Error);
        log.State("TaskKey").Should().Be("slow");
    }

    [Fact]
    public async Task Timeout_WorkFinishesInTime_RanToCompletion()
    {
        await using var harness = new Harness();

        SupervisedTask<int> task = harness.Supervisor.Run(_ => Task.FromResult(3), new TaskOptions { Timeout = TimeSpan.FromSeconds(5) });

        (await task.Task.Within()).Should().Be(3);
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
    }

    [Fact]
    public async Task Timeout_UserCancelsFirst_EndsCanceled()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = harness.Supervisor.Run(async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); },
            new TaskOptions { Timeout = TimeSpan.FromSeconds(5) });
        await started.Task.Within();

        (await task.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Canceled);
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Timeout_ZeroOrNegative_ThrowsArgumentOutOfRangeException(int seconds)
    {
        FluentActions.Invoking(() => new TaskOptions { Timeout = TimeSpan.FromSeconds(seconds) }).Should().Throw<ArgumentOutOfRangeException>();
    }
}
