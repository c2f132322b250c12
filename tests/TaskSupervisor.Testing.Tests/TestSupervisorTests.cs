using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Testing.Tests;

public sealed class TestSupervisorTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EndedTasks_RecordStatusExceptionKeyAndName_InTheOrderTheyEnded()
    {
        await using var tasks = new TestSupervisor();
        await tasks.Supervisor.Run("ok:1", _ => Task.CompletedTask, new TaskOptions { Name = "first" }).Task.WaitAsync(Bound);
        SupervisedTask failing = tasks.Supervisor.Run(_ => throw new InvalidOperationException("boom"), new TaskOptions { Name = "second" });
        await tasks.WaitUntilQuiescentAsync().Awaiting(t => t).Should().ThrowAsync<TaskSupervisorAssertionException>();

        tasks.EndedTasks.Select(e => (e.Key, e.Name, e.Status)).Should().Equal(
            ("ok:1", "first", SupervisedTaskStatus.RanToCompletion),
            (null, "second", SupervisedTaskStatus.Faulted));
        tasks.EndedTasks[1].Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("boom");
        tasks.EndedTasks[1].Id.Should().Be(failing.Id);
        tasks.TakeFailures().Should().ContainSingle();
    }

    [Fact]
    public async Task WaitUntilQuiescent_WaitsForTasksThatTasksStart()
    {
        await using var tasks = new TestSupervisor();
        TaskSupervisor supervisor = tasks.Supervisor;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool grandchildRan = false;

        supervisor.Run(async _ =>
        {
            await release.Task;
            supervisor.Run(async _ =>
            {
                await Task.Yield();
                supervisor.Run(_ =>
                {
                    grandchildRan = true;
                    return Task.CompletedTask;
                });
            });
        });
        Task quiescent = tasks.WaitUntilQuiescentAsync();
        quiescent.IsCompleted.Should().BeFalse();

        release.SetResult();
        await quiescent.WaitAsync(Bound);

        grandchildRan.Should().BeTrue();
        supervisor.Count.Should().Be(0);
        tasks.EndedTasks.Should().HaveCount(3);
    }

    [Fact]
    public async Task WaitUntilQuiescent_WorkStillRunningAtTheTimeout_FailsNamingIt()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var tasks = new TestSupervisor { QuiescenceTimeout = TimeSpan.FromMilliseconds(100) };
        tasks.Supervisor.Run("stuck:42", _ => release.Task, new TaskOptions { Name = "import" });

        TaskSupervisorAssertionException failure = (await tasks.Awaiting(t => t.WaitUntilQuiescentAsync())
            .Should().ThrowAsync<TaskSupervisorAssertionException>()).Which;

        failure.Message.Should().Contain("1 task(s) still tracked").And.Contain("key=stuck:42").And.Contain("name=import");
        release.SetResult();
        tasks.QuiescenceTimeout = TestSupervisor.DefaultQuiescenceTimeout; // the disposal's wait, on a busy machine

    }

    [Fact]
    public async Task BackgroundFault_FailsTheTest_AtQuiescence_AndAtDisposal()
    {
        var tasks = new TestSupervisor();
        tasks.Supervisor.Run("mail:7", _ => throw new TimeoutException("smtp"), new TaskOptions { Name = "send-mail" });

        TaskSupervisorAssertionException atQuiescence = (await tasks.Awaiting(t => t.WaitUntilQuiescentAsync())
            .Should().ThrowAsync<TaskSupervisorAssertionException>()).Which;
        TaskSupervisorAssertionException atDisposal = (await tasks.Awaiting(t => t.DisposeAsync().AsTask())
            .Should().ThrowAsync<TaskSupervisorAssertionException>()).Which;

        atQuiescence.Message.Should().Contain("1 background task(s) failed").And.Contain("key=mail:7").And.Contain("smtp");
        atQuiescence.InnerException.Should().BeOfType<TimeoutException>();
        atDisposal.Message.Should().Contain("key=mail:7");
    }

    [Fact]
    public async Task ExpectedFault_TakenByTheTest_DoesNotFailIt()
    {
        await using var tasks = new TestSupervisor();
        tasks.Supervisor.Run(_ => throw new InvalidOperationException("expected"));
        await tasks.Awaiting(t => t.WaitUntilQuiescentAsync()).Should().ThrowAsync<TaskSupervisorAssertionException>();

        IReadOnlyList<EndedTaskRecord> failures = tasks.TakeFailures();

        failures.Should().ContainSingle().Which.Exception!.Message.Should().Be("expected");
        tasks.Failures.Should().BeEmpty();
        tasks.Invoking(t => t.AssertNoFailures()).Should().NotThrow();
    }

    [Fact]
    public async Task FailOnFaultOff_OnlyRecords()
    {
        await using var tasks = new TestSupervisor { FailOnFault = false };
        tasks.Supervisor.Run(_ => throw new InvalidOperationException("recorded"));

        await tasks.WaitUntilQuiescentAsync();

        tasks.Failures.Should().ContainSingle();
        tasks.TakeFailures();
    }

    [Fact]
    public async Task WithAFakeClock_RestartsFollowTheFakeClock_AndQuiescenceFollowsTheWork()
    {
        var time = new FakeTimeProvider();
        await using var tasks = new TestSupervisor(time);
        int attempts = 0;
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromMinutes(5), MaxDelay = TimeSpan.FromMinutes(5), Jitter = 0 };
        SupervisedTask task = tasks.Supervisor.Run(
            _ => Interlocked.Increment(ref attempts) == 1 ? throw new InvalidOperationException("first") : Task.CompletedTask,
            new TaskOptions { Restart = policy });
        Task quiescent = tasks.WaitUntilQuiescentAsync();

        // The restart waits five minutes of fake time: advance it once the backoff is armed (the task shows Pending then).
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!(task.RestartCount == 1 && task.Status == SupervisedTaskStatus.Pending) && bound.Elapsed < Bound)
        {
            await Task.Yield();
        }

        quiescent.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromMinutes(5));
        await quiescent.WaitAsync(Bound);

        attempts.Should().Be(2);
        tasks.EndedTasks.Should().ContainSingle().Which.RestartCount.Should().Be(1);
    }

    [Fact]
    public async Task Dispose_TaskIgnoringItsToken_FailsAfterTheQuiescenceTimeout_NamingIt()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new TestSupervisor(new FakeTimeProvider()) { QuiescenceTimeout = TimeSpan.FromMilliseconds(100) };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tasks.Supervisor.Run("deaf", async _ =>
        {
            started.SetResult();
            await release.Task;
        });
        await started.Task.WaitAsync(Bound);

        TaskSupervisorAssertionException failure = (await tasks.Awaiting(t => t.DisposeAsync().AsTask())
            .Should().ThrowAsync<TaskSupervisorAssertionException>()).Which;

        failure.Message.Should().Contain("ignored their cancellation").And.Contain("key=deaf");
        release.SetResult();
    }

    [Fact]
    public async Task BadQuiescenceTimeout_ThrowsInvalidOperation()
    {
        await using var tasks = new TestSupervisor { QuiescenceTimeout = TimeSpan.FromSeconds(-5) };

        await tasks.Awaiting(t => t.WaitUntilQuiescentAsync()).Should().ThrowAsync<InvalidOperationException>();
        tasks.QuiescenceTimeout = TestSupervisor.DefaultQuiescenceTimeout;
    }
}
