using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Tests.Diagnostics;

public sealed class MetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TrackingTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    private IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task StartedAndEnded_AreCountedByOutcome_TaggedWithSupervisorAndTaskName_NeverTheKey()
    {
        using var started = Collect<long>(TaskSupervisorDiagnostics.TasksStarted);
        using var ended = Collect<long>(TaskSupervisorDiagnostics.TasksEnded);
        await using TaskSupervisor supervisor = Create();
        var named = new TaskOptions { Name = "email" };

        await Settle(supervisor.Run("user:1", _ => Task.CompletedTask, named));
        await Settle(supervisor.Run(_ => throw new InvalidOperationException("x"), named));
        SupervisedTask canceled = supervisor.Run(ct => Task.Delay(Timeout.Infinite, ct));
        canceled.Cancel();
        await Settle(canceled);

        started.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(3);
        var byOutcome = ended.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[TaskSupervisorDiagnostics.OutcomeTag]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        byOutcome.Should().BeEquivalentTo(new Dictionary<string, long> { ["completed"] = 1, ["faulted"] = 1, ["canceled"] = 1 });
        foreach (var m in ended.GetMeasurementSnapshot())
        {
            m.Tags[TaskSupervisorDiagnostics.SupervisorTag].Should().Be("metrics");
            m.Tags.Keys.Should().NotContain(TaskSupervisorDiagnostics.TaskKeyTag);
        }

        ended.GetMeasurementSnapshot().Where(m => m.Tags.ContainsKey(TaskSupervisorDiagnostics.TaskNameTag))
            .Should().HaveCount(2).And.OnlyContain(m => (string)m.Tags[TaskSupervisorDiagnostics.TaskNameTag]! == "email");
    }

    [Fact]
    public async Task RunningAndPending_FollowTheTasks()
    {
        using var running = Collect<long>(TaskSupervisorDiagnostics.TasksRunning);
        using var pending = Collect<long>(TaskSupervisorDiagnostics.TasksPending);
        await using TaskSupervisor supervisor = Create(o => o.MaxConcurrency = 1);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startedFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask first = supervisor.Run(_ => { startedFirst.SetResult(); return release.Task; });
        SupervisedTask second = supervisor.Run(_ => release.Task);
        await startedFirst.Task.Within();

        running.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
        pending.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);

        release.SetResult();
        await Settle(first);
        await Settle(second);
        running.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(0);
        pending.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(0);
    }

    [Fact]
    public async Task Duration_IsRecordedInSeconds_WithTheOutcome()
    {
        using var duration = Collect<double>(TaskSupervisorDiagnostics.TaskDuration);
        await using TaskSupervisor supervisor = Create();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = supervisor.Run(_ => { started.SetResult(); return release.Task; });
        await started.Task.Within();

        _time.Advance(TimeSpan.FromSeconds(2.5));
        release.SetResult();
        await Settle(task);

        var m = duration.GetMeasurementSnapshot().Should().ContainSingle().Which;
        m.Value.Should().Be(2.5);
        m.Tags[TaskSupervisorDiagnostics.OutcomeTag].Should().Be("completed");
    }

    [Fact]
    public async Task RestartsAndGiveUps_AreCounted_AndTimeoutsEndAsTimedOut()
    {
        using var restarts = Collect<long>(TaskSupervisorDiagnostics.Restarts);
        using var giveUps = Collect<long>(TaskSupervisorDiagnostics.GiveUps);
        using var ended = Collect<long>(TaskSupervisorDiagnostics.TasksEnded);
        await using TaskSupervisor supervisor = Create();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(1), Jitter = 0, MaxRestarts = 2 };

        SupervisedTask task = supervisor.Run(_ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });
        await _time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromMilliseconds(500), () => task.Status == SupervisedTaskStatus.Pending && _time.ArmedTimers > 0);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask slow = supervisor.Run(async ct => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); }, new TaskOptions { Timeout = TimeSpan.FromSeconds(1) });
        await started.Task.Within();
        _time.Advance(TimeSpan.FromSeconds(1));
        await Settle(slow);

        restarts.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(2);
        giveUps.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
        ended.GetMeasurementSnapshot().Select(m => m.Tags[TaskSupervisorDiagnostics.OutcomeTag]).Should().BeEquivalentTo(["faulted", "timed_out"]);
    }

    [Fact]
    public async Task CallbackFailures_AreCounted()
    {
        using var failures = Collect<long>(TaskSupervisorDiagnostics.CallbackFailures);
        await using TaskSupervisor supervisor = Create(o => o.OnTaskEnded = _ => throw new InvalidOperationException("callback"));

        await Settle(supervisor.Run(_ => Task.CompletedTask));

        failures.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
    }

    [Fact]
    public async Task Drain_RecordsItsDurationAndStragglers()
    {
        using var duration = Collect<double>(TaskSupervisorDiagnostics.DrainDuration);
        using var stragglers = Collect<long>(TaskSupervisorDiagnostics.DrainStragglers);
        TaskSupervisor supervisor = Create();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        supervisor.Run(_ => { started.SetResult(); return release.Task; });
        await started.Task.Within();

        Task<DrainReport> drain = supervisor.DrainAsync(TimeSpan.FromSeconds(3));
        _time.Advance(TimeSpan.FromSeconds(3));
        await drain.Within();
        release.SetResult();

        duration.GetMeasurementSnapshot().Should().ContainSingle().Which.Value.Should().Be(3);
        stragglers.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
    }

    private TaskSupervisor Create(Action<TaskSupervisorOptions>? configure = null)
    {
        var options = new TaskSupervisorOptions { Name = "metrics", TimeProvider = _time };
        configure?.Invoke(options);
        return new TaskSupervisor(options, meterFactory: MeterFactory);
    }

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(MeterFactory, TaskSupervisorDiagnostics.MeterName, instrument, _time);

    private static Task Settle(SupervisedTask task) => task.Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();
}
