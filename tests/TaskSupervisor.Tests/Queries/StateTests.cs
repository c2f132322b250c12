namespace TaskSupervision.Tests.Queries;

public sealed class StateTests
{
    [Fact]
    public async Task IsClosed_IsDraining_FollowTheDrain_FalseBefore_TrueWhileDraining_ClosedButNotDrainingAfter()
    {
        await using var harness = new Harness();
        TaskSupervisor supervisor = harness.Supervisor;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        supervisor.Run(async _ =>
        {
            started.SetResult();
            await release.Task; // ignores its token: the drain waits for it
        });
        await started.Task.Within();

        supervisor.IsClosed.Should().BeFalse();
        supervisor.IsDraining.Should().BeFalse();

        Task<DrainReport> drain = supervisor.DrainAsync(Timeout.InfiniteTimeSpan);

        supervisor.IsClosed.Should().BeTrue();
        supervisor.IsDraining.Should().BeTrue();
        ((ITaskSupervisor)supervisor).IsDraining.Should().BeTrue("the consumer-facing interface answers too");

        release.SetResult();
        await drain.Within();

        supervisor.IsClosed.Should().BeTrue("a drained supervisor stays closed");
        supervisor.IsDraining.Should().BeFalse();
        supervisor.Invoking(s => s.Run(_ => Task.CompletedTask)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task IsClosed_AfterAnEmptyDrain_True_IsDraining_False()
    {
        await using var harness = new Harness();

        await harness.Supervisor.DrainAsync().Within();

        harness.Supervisor.IsClosed.Should().BeTrue();
        harness.Supervisor.IsDraining.Should().BeFalse();
    }

    [Fact]
    public async Task RunningCount_CountsRunningWork_NotTasksWaitingForARunSlot()
    {
        await using var harness = new Harness(o => o.MaxConcurrency = 2);
        TaskSupervisor supervisor = harness.Supervisor;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new[] { NewSignal(), NewSignal() };
        for (int i = 0; i < 3; i++)
        {
            int n = i;
            supervisor.Run(async _ =>
            {
                if (n < 2)
                {
                    started[n].SetResult();
                }

                await release.Task;
            });
        }

        await Task.WhenAll(started.Select(s => s.Task)).Within();

        supervisor.Count.Should().Be(3);
        supervisor.RunningCount.Should().Be(2);
        supervisor.PendingCount.Should().Be(1);

        release.SetResult();
        await supervisor.WhenIdleAsync().Within();
        supervisor.RunningCount.Should().Be(0);
        supervisor.Count.Should().Be(0);
    }

    [Fact]
    public async Task RunningCount_TaskWaitingOutARestartDelay_IsNotRunning()
    {
        await using var harness = new Harness();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0 };
        SupervisedTask task = harness.Supervisor.Run(_ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });

        await harness.Time.AdvanceUntil(() => task.RestartCount == 1 && task.Status == SupervisedTaskStatus.Pending, TimeSpan.Zero);

        harness.Supervisor.Count.Should().Be(1);
        harness.Supervisor.RunningCount.Should().Be(0);
        task.Cancel();
        await harness.Supervisor.WhenIdleAsync().Within();
        harness.Supervisor.RunningCount.Should().Be(0);
    }

    [Fact]
    public async Task RunningCount_ManyTasksFromManyThreads_ReturnsToZero_SeededStress()
    {
        // Replay with the same seed: the start order and outcomes derive from it alone.
        const int Seed = 20261202;
        await using var harness = new Harness(o => o.MaxConcurrency = 8);
        var random = new Random(Seed);
        int[] outcomes = Enumerable.Range(0, 2000).Select(_ => random.Next(3)).ToArray();

        await Parallel.ForEachAsync(Enumerable.Range(0, outcomes.Length), new ParallelOptions { MaxDegreeOfParallelism = 4 }, (i, _) =>
        {
            harness.Supervisor.Run(async ct =>
            {
                await Task.Yield();
                if (outcomes[i] == 1)
                {
                    throw new InvalidOperationException("fault " + i);
                }
            });
            return ValueTask.CompletedTask;
        }).Within();

        await harness.Supervisor.WhenIdleAsync().Within();

        harness.Supervisor.RunningCount.Should().Be(0, "seed {0}", Seed);
        harness.Supervisor.Count.Should().Be(0);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
