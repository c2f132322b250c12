namespace TaskSupervision.Tests.Queries;

public sealed class TaskContextTests
{
    private sealed record Seen(string? Key, long Id, int Attempt, SupervisedTask Task, CancellationToken Token);

    [Fact]
    public async Task RunWithState_WorkLearnsItsKeyHandleAndAttempt_AfterRestarts()
    {
        await using var harness = new Harness();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(1), Jitter = 0 };
        var seen = new List<Seen>();

        SupervisedTask task = harness.Supervisor.Run("job:7", seen, static (log, context) =>
        {
            lock (log)
            {
                log.Add(new Seen(context.Key, context.Id, context.Attempt, context.Task, context.CancellationToken));
            }

            return context.Attempt < 3 ? throw new InvalidOperationException("attempt " + context.Attempt) : Task.CompletedTask;
        }, new TaskOptions { Restart = policy });

        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(250), () => task.Status == SupervisedTaskStatus.Pending && harness.Time.ArmedTimers > 0);

        await task.Task.Within();
        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
        seen.Select(s => s.Attempt).Should().Equal(1, 2, 3);
        seen.Should().OnlyContain(s => s.Key == "job:7" && s.Id == task.Id && ReferenceEquals(s.Task, task) && s.Token.CanBeCanceled);
    }

    [Fact]
    public async Task RunWithState_Unkeyed_TokenIsCancelledByCancel()
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        SupervisedTask task = harness.Supervisor.Run(started, static async (signal, context) =>
        {
            context.Key.Should().BeNull();
            context.Attempt.Should().Be(1);
            signal.SetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        });
        await started.Task.Within();

        (await task.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Canceled);
    }

    [Fact]
    public async Task RunWithState_KeyTaken_FollowsIfKeyRunning()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask first = harness.Supervisor.Run("k", release, static (r, _) => r.Task);

        harness.Supervisor.Invoking(s => s.Run("k", release, static (r, _) => r.Task)).Should().Throw<TaskKeyConflictException>();
        harness.Supervisor.Run("k", release, static (r, _) => r.Task, new TaskOptions { IfKeyRunning = KeyConflictBehavior.UseExisting })
            .Should().BeSameAs(first);
        release.SetResult();
    }

    [Fact]
    public async Task RunWithState_EndedTask_DropsItsState()
    {
        await using var harness = new Harness();
        WeakReference state = StartAndForget(harness.Supervisor, out SupervisedTask task);
        await task.Task.Within();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        state.IsAlive.Should().BeFalse("a finished handle keeps neither its work nor its state");
        GC.KeepAlive(task);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference StartAndForget(TaskSupervisor supervisor, out SupervisedTask task)
    {
        var state = new byte[1024];
        task = supervisor.Run(state, static (_, _) => Task.CompletedTask);
        return new WeakReference(state);
    }

    [Fact]
    public async Task RunWithState_NullArguments_Throw()
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(s => s.Run(1, (Func<int, TaskContext, Task>)null!)).Should().Throw<ArgumentNullException>();
        harness.Supervisor.Invoking(s => s.Run(null!, 1, static (_, _) => Task.CompletedTask)).Should().Throw<ArgumentNullException>();
        harness.Supervisor.Invoking(s => s.Run(" ", 1, static (_, _) => Task.CompletedTask)).Should().Throw<ArgumentException>();
    }
}
