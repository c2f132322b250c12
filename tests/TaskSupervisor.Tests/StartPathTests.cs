using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace TaskSupervision.Tests;

/// <summary>
/// The start path's shortcuts (issue 16) keep what they skip invisible: an end that nothing listens to reads no clock,
/// but every consumer that does listen still gets the elapsed time; work runs without ExecutionContext.Run when it was
/// started under the default context, and nothing a work item sets leaks into the next.
/// </summary>
public class StartPathTests
{
    [Fact]
    public async Task End_WithOnlyATaskCallback_ReportsTheElapsedTime()
    {
        var time = new FakeTimeProvider();
        await using var supervisor = new TaskSupervisor(new TaskSupervisorOptions { TimeProvider = time });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<TaskEndedArguments>(TaskCreationOptions.RunContinuationsAsynchronously);

        SupervisedTask task = supervisor.Run(_ => gate.Task, new TaskOptions { OnEnded = a => ended.TrySetResult(a) });
        time.Advance(TimeSpan.FromSeconds(3));
        gate.SetResult();

        TaskEndedArguments arguments = await ended.Task.Within();
        arguments.Elapsed.Should().Be(TimeSpan.FromSeconds(3));
        await task.Task.Within();
        supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task End_WithOnlyASupervisorCallback_ReportsTheElapsedTime()
    {
        var time = new FakeTimeProvider();
        var ended = new TaskCompletionSource<TaskEndedArguments>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var supervisor = new TaskSupervisor(new TaskSupervisorOptions { TimeProvider = time, OnTaskEnded = a => ended.TrySetResult(a) });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        supervisor.Run(_ => gate.Task);
        time.Advance(TimeSpan.FromSeconds(7));
        gate.SetResult();

        (await ended.Task.Within()).Elapsed.Should().Be(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task End_LoggerAtDebug_LogsTheCanceledTaskWithItsElapsedTime_AndNotTheCompletedOne()
    {
        var time = new FakeTimeProvider();
        var logs = new FakeLogCollector();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs)));
        await using var supervisor = new TaskSupervisor(new TaskSupervisorOptions { TimeProvider = time }, loggerFactory);

        SupervisedTask canceled = supervisor.Run(ct => Task.Delay(Timeout.Infinite, ct));
        SupervisedTask completed = supervisor.Run(_ => Task.CompletedTask);
        await completed.Task.Within();
        time.Advance(TimeSpan.FromSeconds(2));
        (await canceled.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Canceled);

        IReadOnlyList<FakeLogRecord> records = logs.GetSnapshot();
        records.Should().ContainSingle(r => r.Id.Name == "TaskCanceled")
            .Which.State("ElapsedMs").Should().Be("2000");
        records.Should().NotContain(r => r.Id.Name == "TaskCompleted");
    }

    [Fact]
    public async Task Run_AnAsyncLocalSetSynchronouslyByOneTask_IsNotSeenByTheNext()
    {
        await using var supervisor = new TaskSupervisor();
        var local = new AsyncLocal<string>();

        // Sequential tasks started from a context with no AsyncLocal: each runs on the pool without ExecutionContext.Run,
        // and the pool resets the thread's context after each one, so a value one sets never reaches another.
        for (int i = 0; i < 200; i++)
        {
            SupervisedTask<string?> task = supervisor.Run(_ =>
            {
                string? seen = local.Value;
                local.Value = "leaked";
                return Task.FromResult(seen);
            });

            (await task.Task.Within()).Should().BeNull();
        }

        local.Value.Should().BeNull();
    }
}
