using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TaskSupervision.HealthChecks.Tests;

public sealed class TaskSupervisorHealthCheckTests
{
    [Fact]
    public async Task Check_TasksCompleted_IsHealthy_WithTheCountsInData()
    {
        await using var harness = new CheckHarness();
        await harness.CompleteAsync(5);
        harness.RunUntilCanceled("worker");

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Healthy);
        entry.Data["ended"].Should().Be(5L);
        entry.Data["faulted"].Should().Be(0L);
        entry.Data["gaveUp"].Should().Be(0L);
        entry.Data["running"].Should().Be(1);
        entry.Data["pending"].Should().Be(0);
        entry.Data.Should().NotContainKey("overdueTasks", "ages are not checked by default");
    }

    [Fact]
    public async Task Check_FaultedShareReachesThreshold_IsUnhealthy()
    {
        await using var harness = new CheckHarness(o => { o.UnhealthyFaultedShare = 0.5; o.MinimumEnded = 4; });
        await harness.CompleteAsync(2);
        await harness.FaultAsync(2);

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("2 of 4");
        entry.Data["ended"].Should().Be(4L);
        entry.Data["faulted"].Should().Be(2L);
    }

    [Fact]
    public async Task Check_FaultedShareBelowThreshold_IsHealthy()
    {
        await using var harness = new CheckHarness(o => { o.UnhealthyFaultedShare = 0.5; o.MinimumEnded = 4; });
        await harness.CompleteAsync(3);
        await harness.FaultAsync(1);

        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Check_FewerEndedThanTheMinimum_IgnoresTheShare()
    {
        await using var harness = new CheckHarness(o => { o.UnhealthyFaultedShare = 0.5; o.MinimumEnded = 10; });
        await harness.FaultAsync(1);

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Healthy, "one fault out of one task is not yet a rate");
        entry.Data["faulted"].Should().Be(1L);
    }

    [Fact]
    public async Task Check_FaultedCountReachesThreshold_IsUnhealthy_WhateverTheShare()
    {
        await using var harness = new CheckHarness(o => { o.UnhealthyFaultedCount = 3; o.UnhealthyFaultedShare = null; });
        await harness.CompleteAsync(100);
        await harness.FaultAsync(3);

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("3 task(s) faulted");
    }

    [Fact]
    public async Task Check_TimedOutTask_CountsAsFaulted()
    {
        await using var harness = new CheckHarness(o => o.UnhealthyFaultedCount = 1);
        SupervisedTask task = harness.Supervisor.Run(ct => Task.Delay(Timeout.InfiniteTimeSpan, harness.Time, ct), new TaskOptions { Timeout = TimeSpan.FromSeconds(1) });
        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(500));
        await Task.WhenAny(task.Task).Within();

        HealthReportEntry entry = await harness.CheckAsync();

        task.Status.Should().Be(SupervisedTaskStatus.TimedOut);
        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Data["faulted"].Should().Be(1L);
    }

    [Fact]
    public async Task Check_CanceledTasks_AreNotFailures()
    {
        await using var harness = new CheckHarness(o => o.UnhealthyFaultedCount = 1);
        SupervisedTask task = harness.RunUntilCanceled("watch");
        (await task.CancelAsync(TestExtensions.Bound).Within()).Should().Be(CancelResult.Canceled);

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Healthy);
        entry.Data["ended"].Should().Be(1L);
        entry.Data["faulted"].Should().Be(0L);
    }

    [Fact]
    public async Task Check_TaskGivenUpOnWithinTheWindow_IsUnhealthy()
    {
        await using var harness = new CheckHarness();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(100), Jitter = 0, MaxRestarts = 1 };
        SupervisedTask task = harness.Supervisor.Run("doomed", _ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(100), () => task.Status == SupervisedTaskStatus.Pending);
        await Task.WhenAny(task.Task).Within();

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy, "a task the supervisor gave up on is a service that no longer runs");
        entry.Description.Should().Contain("given up");
        entry.Data["gaveUp"].Should().Be(1L);
    }

    [Fact]
    public async Task Check_GiveUpWithUnhealthyOnGaveUpOff_IsHealthy()
    {
        await using var harness = new CheckHarness(o => o.UnhealthyOnGaveUp = false);
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(100), Jitter = 0, MaxRestarts = 1 };
        SupervisedTask task = harness.Supervisor.Run("doomed", _ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(100), () => task.Status == SupervisedTaskStatus.Pending);
        await Task.WhenAny(task.Task).Within();

        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Check_FaultsOlderThanTheWindow_AgeOut_AndTheCheckIsHealthyAgain()
    {
        await using var harness = new CheckHarness(o => { o.Window = TimeSpan.FromMinutes(1); o.UnhealthyFaultedCount = 3; });
        await harness.FaultAsync(3);
        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Unhealthy);

        harness.Time.Advance(TimeSpan.FromSeconds(30));
        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Unhealthy, "the faults are still within the window");

        harness.Time.Advance(TimeSpan.FromSeconds(30));
        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Healthy);
        entry.Data["ended"].Should().Be(0L);
        entry.Data["faulted"].Should().Be(0L);
    }

    [Fact]
    public async Task Check_GiveUpOlderThanTheWindow_AgesOut()
    {
        await using var harness = new CheckHarness(o => o.Window = TimeSpan.FromMinutes(1));
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(100), Jitter = 0, MaxRestarts = 1 };
        SupervisedTask task = harness.Supervisor.Run("doomed", _ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(100), () => task.Status == SupervisedTaskStatus.Pending);
        await Task.WhenAny(task.Task).Within();
        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Unhealthy);

        harness.Time.Advance(TimeSpan.FromMinutes(1));

        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Check_TaskOlderThanMaxTaskAge_IsDegraded_WithItsKeyInData()
    {
        await using var harness = new CheckHarness(o => o.MaxTaskAge = TimeSpan.FromSeconds(10));
        harness.RunUntilCanceled("stuck");
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        harness.RunUntilCanceled("young");
        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);

        harness.Time.Advance(TimeSpan.FromSeconds(6));
        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data["overdue"].Should().Be(1);
        entry.Data["overdueTasks"].Should().BeEquivalentTo(new[] { "stuck" });
    }

    [Fact]
    public async Task Check_OverdueTasksInData_AreBoundedToTen_WhileTheCountIsExact()
    {
        await using var harness = new CheckHarness(o => o.MaxTaskAge = TimeSpan.FromSeconds(10));
        for (int i = 0; i < 25; i++)
        {
            harness.RunUntilCanceled("stuck-" + i);
        }

        harness.Time.Advance(TimeSpan.FromSeconds(11));
        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data["overdue"].Should().Be(25);
        entry.Data["overdueTasks"].As<string[]>().Should().HaveCount(10).And.OnlyContain(key => key.StartsWith("stuck-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_PendingQueueNearItsBound_IsDegraded()
    {
        await using var harness = new CheckHarness(
            o => o.DegradedPendingShare = 0.8,
            s => { s.MaxConcurrency = 1; s.MaxPending = 5; });
        for (int i = 0; i < 4; i++)
        {
            harness.RunUntilCanceled();
        }

        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Healthy, "3 of 5 pending is below 80 %");

        harness.RunUntilCanceled();
        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data["pending"].Should().Be(4);
        entry.Data["maxPending"].Should().Be(5);
        entry.Data["running"].Should().Be(1);
    }

    [Fact]
    public async Task Check_FailuresOutrankSlowness_UnhealthyWinsOverDegraded()
    {
        await using var harness = new CheckHarness(o => { o.MaxTaskAge = TimeSpan.FromSeconds(1); o.UnhealthyFaultedCount = 1; });
        harness.RunUntilCanceled("stuck");
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        await harness.FaultAsync(1);

        HealthReportEntry entry = await harness.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Data["overdueTasks"].Should().BeEquivalentTo(new[] { "stuck" }, "the data still names every finding");
    }

    [Fact]
    public async Task Check_NamedSupervisor_CountsOnlyThatSupervisorsTasks()
    {
        await using var harness = new CheckHarness(services: s =>
        {
            s.AddTaskSupervisor("emails");
            s.AddHealthChecks().AddTaskSupervisor("emails-check", supervisorName: "emails", configure: o => o.UnhealthyFaultedCount = 1);
        });
        ITaskSupervisor emails = harness.Services.GetRequiredKeyedService<ITaskSupervisor>("emails");
        await harness.FaultAsync(1);
        (await harness.CheckAsync("emails-check")).Status.Should().Be(HealthStatus.Healthy, "the default supervisor's fault is not the named one's");

        await harness.FaultAsync(1, emails);

        HealthReportEntry entry = await harness.CheckAsync("emails-check");
        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Data["faulted"].Should().Be(1L);
        await emails.DrainAsync(TimeSpan.FromSeconds(1)).Within();
    }

    [Fact]
    public async Task Check_ApplicationAssignsOnTaskEndedAfterTheCheckIsAdded_StillCountsEveryEnd()
    {
        int seenByApplication = 0;
        await using var harness = new CheckHarness(
            o => o.UnhealthyFaultedCount = 2,
            services: s => s.AddTaskSupervisor(o => o.OnTaskEnded = _ => Interlocked.Increment(ref seenByApplication)));
        await harness.FaultAsync(2);

        (await harness.CheckAsync()).Status.Should().Be(HealthStatus.Unhealthy);
        seenByApplication.Should().Be(2);
    }

    [Fact]
    public async Task Check_SupervisorNotRegistered_ReportsTheFailureStatus_AndLogsEvent200()
    {
        await using var harness = new CheckHarness(services: s => s.AddHealthChecks().AddTaskSupervisor("missing-check", supervisorName: "missing", failureStatus: HealthStatus.Degraded));

        HealthReportEntry entry = await harness.CheckAsync("missing-check");

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("missing");
        harness.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 200 && r.Id.Name == "SupervisorNotRegistered");
    }
}
