using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using TaskSupervision.Hosting;

namespace TaskSupervision.Hosting.Tests;

/// <summary>
/// Every test that can touch <see cref="Environment.ExitCode"/>, a process-wide value, is in this one class, so that xunit
/// runs them one at a time; each resets it to 0.
/// </summary>
public sealed class CriticalTaskTests : IDisposable
{
    private static readonly TaskOptions Critical = new() { IsCritical = true, Name = "billing-loop" };

    public CriticalTaskTests() => Environment.ExitCode = 0;

    public void Dispose() => Environment.ExitCode = 0;

    [Fact]
    public async Task CriticalTaskFaults_WithStopHost_StopsTheHost_WithExitCode1()
    {
        using IHost host = TestHost.Build(s => s
            .AddTaskSupervisorHosting(o => o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost)
            .AddTaskSupervisor());
        FakeLogCollector logs = host.Services.GetFakeLogCollector();
        Task run = host.RunAsync();   // disposes the host when it stops
        await WaitStartedAsync(host);

        host.Services.GetRequiredService<ITaskSupervisor>().Run(_ => throw new InvalidOperationException("ledger unreachable"), Critical);

        await run.Within();
        Environment.ExitCode.Should().Be(1);
        var log = logs.LogsWithEvent(105).Should().ContainSingle().Subject;
        log.Level.Should().Be(LogLevel.Critical);
        log.Exception.Should().BeOfType<InvalidOperationException>();
        log.State("TaskName").Should().Be("billing-loop");
        log.State("ExitCode").Should().Be("1");
        logs.LogsWithEvent(6).Should().ContainSingle("the supervisors are drained as at any shutdown");
    }

    [Fact]
    public async Task CriticalTaskTimesOut_WithStopHost_StopsTheHost_WithTheConfiguredExitCode()
    {
        var time = new FakeTimeProvider();
        using IHost host = TestHost.Build(
            s => s.AddTaskSupervisorHosting(o => { o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost; o.CriticalFailureExitCode = 70; }).AddTaskSupervisor(),
            time: time);
        await host.StartAsync().Within();
        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

        SupervisedTask task = host.Services.GetRequiredService<ITaskSupervisor>().Run(
            ct => Task.Delay(Timeout.InfiniteTimeSpan, time, ct),
            new TaskOptions { IsCritical = true, Timeout = TimeSpan.FromSeconds(5) });
        await time.AdvanceUntil(() => task.Task.IsCompleted, TimeSpan.FromSeconds(1));
        await Task.WhenAny(task.Task).Within();

        task.Status.Should().Be(SupervisedTaskStatus.TimedOut);
        lifetime.ApplicationStopping.IsCancellationRequested.Should().BeTrue("the stop is requested before the task's handle completes");
        Environment.ExitCode.Should().Be(70);
        await host.StopAsync().Within();
    }

    [Fact]
    public async Task NonCriticalTaskFaults_WithStopHost_DoesNotStopTheHost()
    {
        using IHost host = TestHost.Build(s => s
            .AddTaskSupervisorHosting(o => o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost)
            .AddTaskSupervisor());
        await host.StartAsync().Within();

        SupervisedTask task = host.Services.GetRequiredService<ITaskSupervisor>().Run(_ => throw new InvalidOperationException("boom"));
        await Task.WhenAny(task.Task).Within();

        AssertStillRunning(host, task, SupervisedTaskStatus.Faulted);
        await host.StopAsync().Within();
    }

    [Fact]
    public async Task CriticalTaskFaults_WithTheDefaultLogOnly_DoesNotStopTheHost()
    {
        using IHost host = TestHost.Build(s => s.AddTaskSupervisorHosting().AddTaskSupervisor());
        await host.StartAsync().Within();

        SupervisedTask task = host.Services.GetRequiredService<ITaskSupervisor>().Run(_ => throw new InvalidOperationException("boom"), Critical);
        await Task.WhenAny(task.Task).Within();

        AssertStillRunning(host, task, SupervisedTaskStatus.Faulted);
        await host.StopAsync().Within();
    }

    [Fact]
    public async Task CriticalTaskCanceled_WithStopHost_DoesNotStopTheHost()
    {
        using IHost host = TestHost.Build(s => s
            .AddTaskSupervisorHosting(o => o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost)
            .AddTaskSupervisor());
        await host.StartAsync().Within();

        SupervisedTask task = host.Services.GetRequiredService<ITaskSupervisor>().Run("watch", ct => Task.Delay(Timeout.InfiniteTimeSpan, ct), Critical);
        (await task.CancelAsync(TestExtensions.Bound).Within()).Should().Be(CancelResult.Canceled);

        AssertStillRunning(host, task, SupervisedTaskStatus.Canceled);
        await host.StopAsync().Within();
    }

    [Fact]
    public async Task CriticalTaskFaults_InANamedSupervisor_StopsTheHost()
    {
        using IHost host = TestHost.Build(s => s
            .AddTaskSupervisor("emails")
            .AddTaskSupervisorHosting(o => o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost));
        FakeLogCollector logs = host.Services.GetFakeLogCollector();
        Task run = host.RunAsync();   // disposes the host when it stops
        await WaitStartedAsync(host);

        host.Services.GetRequiredKeyedService<ITaskSupervisor>("emails").Run(_ => throw new InvalidOperationException("smtp down"), Critical);

        await run.Within();
        Environment.ExitCode.Should().Be(1);
        logs.LogsWithEvent(105).Should().ContainSingle().Which.State("Supervisor").Should().Be("emails");
    }

    [Fact]
    public async Task CriticalTaskFaults_InAContainerWithoutHostOrLogging_SetsTheExitCode_AndNothingThrows()
    {
        var services = new ServiceCollection();
        services.AddTaskSupervisorHosting(o => o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost).AddTaskSupervisor();
        await using ServiceProvider provider = services.BuildServiceProvider();
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();

        SupervisedTask task = supervisor.Run(_ => throw new InvalidOperationException("boom"), new TaskOptions { IsCritical = true });
        await Task.WhenAny(task.Task).Within();

        task.Status.Should().Be(SupervisedTaskStatus.Faulted);
        Environment.ExitCode.Should().Be(1, "with no host to stop, the exit code is still set for the process's end");
    }

    private static async Task WaitStartedAsync(IHost host)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.Within();
    }

    private static void AssertStillRunning(IHost host, SupervisedTask task, SupervisedTaskStatus status)
    {
        // The hook runs before the handle's task completes, so by now it has decided.
        task.Status.Should().Be(status);
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested.Should().BeFalse();
        Environment.ExitCode.Should().Be(0);
        host.LogsWithEvent(105).Should().BeEmpty();
    }
}
