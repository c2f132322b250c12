using Microsoft.Extensions.Logging;

namespace TaskSupervision.Tests.Policies;

public sealed class RestartTests
{
    private static readonly RestartPolicy NoJitter = new() { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0 };

    [Fact]
    public async Task OnFailure_RestartsAfterBackoff_KeepsKeyAndHandle_AndCompletesOnlyWithTheFinalOutcome()
    {
        int ends = 0;
        await using var harness = new Harness(o => o.OnTaskEnded = _ => Interlocked.Increment(ref ends));
        int attempts = 0;

        SupervisedTask<string> task = harness.Supervisor.Run("flaky", _ =>
            Interlocked.Increment(ref attempts) < 3 ? throw new InvalidOperationException($"attempt {attempts}") : Task.FromResult("ok"),
            new TaskOptions { Restart = NoJitter });

        await harness.Time.AdvanceUntil(() => task.RestartCount == 1 && task.Status == SupervisedTaskStatus.Pending, TimeSpan.Zero);
        task.Task.IsCompleted.Should().BeFalse();
        task.LastException!.Message.Should().Be("attempt 1");
        harness.Supervisor.TryGetTask("flaky", out SupervisedTask? byKey).Should().BeTrue();
        byKey.Should().BeSameAs(task);

        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(250));

        (await task.Task.Within()).Should().Be("ok");
        attempts.Should().Be(3);
        task.RestartCount.Should().Be(2);
        ends.Should().Be(1, "callbacks run once, with the final outcome");
        harness.LogsWithEvent("TaskRestarting").Should().HaveCount(2);
        harness.LogsWithEvent("TaskFaulted").Should().BeEmpty();
    }

    [Fact]
    public async Task Backoff_GrowsExponentially_UpToTheMaximum()
    {
        await using var harness = new Harness();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(3), Multiplier = 2, Jitter = 0, MaxRestarts = 10, Window = TimeSpan.FromHours(1) };
        int attempts = 0;

        SupervisedTask task = harness.Supervisor.Run(_ =>
        {
            Interlocked.Increment(ref attempts);
            throw new InvalidOperationException("down");
        }, new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => Volatile.Read(ref attempts) >= 5, TimeSpan.FromMilliseconds(500), () => task.Status == SupervisedTaskStatus.Pending && harness.Time.ArmedTimers > 0);
        task.Cancel();

        harness.LogsWithEvent("TaskRestarting").Take(4).Select(r => r.State("DelayMs"))
            .Should().Equal("1000", "2000", "3000", "3000");
    }

    [Fact]
    public void Delay_WithJitter_NeverExceedsTheMaximum()
    {
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(4), Multiplier = 3, Jitter = 0.5 };

        for (int restart = 1; restart < 10; restart++)
        {
            foreach (double random in new[] { 0.0, 0.3, 0.999 })
            {
                TimeSpan delay = policy.GetDelay(restart, random);
                delay.Should().BeLessThanOrEqualTo(policy.MaxDelay);
                delay.Should().BeGreaterThanOrEqualTo(TimeSpan.FromTicks(Math.Min(policy.MaxDelay.Ticks, (long)(TimeSpan.TicksPerSecond * Math.Pow(3, restart - 1))) / 2));
            }
        }
    }

    [Fact]
    public async Task Intensity_MoreThanMaxRestartsWithinTheWindow_GivesUp_FaultedWithTheLastException_CallbacksOnceWithGaveUp()
    {
        var ended = new List<TaskEndedArguments>();
        await using var harness = new Harness(o => o.OnTaskEnded = e => { lock (ended) ended.Add(e); });
        int attempts = 0;
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(1), Jitter = 0, MaxRestarts = 3, Window = TimeSpan.FromMinutes(1) };

        SupervisedTask task = harness.Supervisor.Run("doomed", _ => throw new InvalidOperationException($"failure {Interlocked.Increment(ref attempts)}"),
            new TaskOptions { Restart = policy, Name = "doomed" });
        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(500), () => task.Status == SupervisedTaskStatus.Pending && harness.Time.ArmedTimers > 0);

        attempts.Should().Be(4, "the first run and three restarts");
        task.Status.Should().Be(SupervisedTaskStatus.Faulted);
        task.Exception!.Message.Should().Be("failure 4");
        TaskEndedArguments args = ended.Should().ContainSingle().Which;
        args.GaveUp.Should().BeTrue();
        args.RestartCount.Should().Be(3);
        var log = harness.LogsWithEvent("TaskGaveUp").Should().ContainSingle().Which;
        log.Level.Should().Be(LogLevel.Error);
        log.State("RestartCount").Should().Be("3");
        harness.Supervisor.TryGetTask("doomed", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Intensity_RestartsSpreadBeyondTheWindow_NeverGiveUp()
    {
        await using var harness = new Harness();
        int attempts = 0;
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0, MaxRestarts = 2, Window = TimeSpan.FromSeconds(15) };

        SupervisedTask task = harness.Supervisor.Run(_ => throw new InvalidOperationException($"failure {Interlocked.Increment(ref attempts)}"),
            new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => Volatile.Read(ref attempts) >= 6, TimeSpan.FromSeconds(1), () => task.Status == SupervisedTaskStatus.Pending && harness.Time.ArmedTimers > 0);

        task.Status.Should().NotBe(SupervisedTaskStatus.Faulted, "restarts 10 s apart never pass 2 within 15 s");
        task.Cancel();
        await task.Task.Awaiting(t => t.Within()).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Always_RestartsAWorkThatCompletes()
    {
        await using var harness = new Harness();
        int runs = 0;

        SupervisedTask task = harness.Supervisor.Run(_ => { Interlocked.Increment(ref runs); return Task.CompletedTask; },
            new TaskOptions { Restart = new RestartPolicy { Mode = RestartMode.Always, InitialDelay = TimeSpan.FromSeconds(1), Jitter = 0, MaxRestarts = 100 } });
        await harness.Time.AdvanceUntil(() => Volatile.Read(ref runs) >= 3, TimeSpan.FromMilliseconds(500));

        task.Status.Should().NotBe(SupervisedTaskStatus.RanToCompletion);
        (await task.CancelAsync(Timeout.InfiniteTimeSpan).Within()).Should().Be(CancelResult.Canceled);
    }

    [Fact]
    public async Task Cancel_DuringBackoff_EndsAtOnceAsCanceled_WithoutWaitingOutTheDelay()
    {
        await using var harness = new Harness();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1), Jitter = 0 };
        SupervisedTask task = harness.Supervisor.Run(_ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => task.RestartCount == 1, TimeSpan.Zero);

        CancelResult result = await task.CancelAsync(Timeout.InfiniteTimeSpan).Within();

        result.Should().Be(CancelResult.Canceled);
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task Drain_DuringBackoff_EndsTheTaskAtOnce()
    {
        await using var harness = new Harness(o => o.DefaultRestartPolicy = new RestartPolicy { InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromHours(1) });
        SupervisedTask task = harness.Supervisor.Run(_ => throw new InvalidOperationException("down"));
        await harness.Time.AdvanceUntil(() => task.RestartCount == 1, TimeSpan.Zero);

        DrainReport report = await harness.Supervisor.DrainAsync(TimeSpan.FromSeconds(10)).Within();

        report.IsComplete.Should().BeTrue();
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task Timeout_CountsAsAFailure_ForOnFailure()
    {
        await using var harness = new Harness();
        int attempts = 0;

        SupervisedTask task = harness.Supervisor.Run(async ct =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
        }, new TaskOptions { Timeout = TimeSpan.FromSeconds(2), Restart = NoJitter });
        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(500));

        task.Status.Should().Be(SupervisedTaskStatus.RanToCompletion);
        task.RestartCount.Should().Be(1);
        task.LastException.Should().BeOfType<TimeoutException>();
    }

    [Fact]
    public void BadPolicy_InTaskOptions_ThrowsArgumentExceptionAtTheCall_ListingEveryProblem()
    {
        var bad = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(-1), Window = TimeSpan.Zero, MaxRestarts = 0, Multiplier = 0.5, Jitter = 1.5 };

        FluentActions.Invoking(() => new TaskOptions { Restart = bad }).Should().Throw<ArgumentException>().WithParameterName("Restart")
            .Which.Message.Should().ContainAll("InitialDelay", "Window", "MaxRestarts", "Multiplier", "Jitter");
    }

    [Fact]
    public void BadPolicy_Setters_NeverThrow_SoThatConfigurationBindingWorks()
    {
        FluentActions.Invoking(() => new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(-1), MaxDelay = TimeSpan.MaxValue, Jitter = 2 }).Should().NotThrow();
    }

    [Fact]
    public void InvertedDelays_AsTheDefaultPolicy_AreRejectedByTheSupervisor_NamingTheSetting()
    {
        var inverted = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(1) };

        FluentActions.Invoking(() => new TaskOptions { Restart = inverted }).Should().Throw<ArgumentException>().WithMessage("*MaxDelay*InitialDelay*");
        FluentActions.Invoking(() => new TaskSupervisor(new TaskSupervisorOptions { DefaultRestartPolicy = inverted }))
            .Should().Throw<ArgumentException>().WithMessage("*DefaultRestartPolicy:MaxDelay*");
    }

    [Fact]
    public void DelayBeyondTheTimerLimit_IsRejected_NeverFailsLaterOnATimer()
    {
        var tooLong = new RestartPolicy { InitialDelay = TaskSupervisorOptions.MaxTimeout + TimeSpan.FromDays(1), MaxDelay = TimeSpan.MaxValue };

        FluentActions.Invoking(() => new TaskOptions { Restart = tooLong }).Should().Throw<ArgumentException>().WithMessage("*InitialDelay*MaxDelay*");
    }
}
