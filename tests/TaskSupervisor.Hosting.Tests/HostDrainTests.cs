using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Hosting.Tests;

public sealed class HostDrainTests
{
    [Fact]
    public async Task StopAsync_DrainsEverySupervisor_BeforeTheContainerIsDisposed_AndEachDrainIsLoggedOnce()
    {
        using IHost host = TestHost.Build(s => s
            .AddTaskSupervisorHosting()
            .AddTaskSupervisor()
            .AddTaskSupervisor("emails")
            .AddSingleton<Ledger>());
        await host.StartAsync().Within();
        var cleanupErrors = new List<Exception>();
        var started = new CountdownEvent(2);

        // The default supervisor's task cleans up through its own DI scope; the named one's through the root provider.
        host.Services.GetRequiredService<ITaskSupervisor>().Run(async (services, ct) =>
        {
            started.Signal();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            finally
            {
                Cleanup(services, "default", cleanupErrors);
            }
        });
        host.Services.GetRequiredKeyedService<ITaskSupervisor>("emails").Run(async ct =>
        {
            started.Signal();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            finally
            {
                Cleanup(host.Services, "emails", cleanupErrors);
            }
        });
        await Task.Run(() => started.Wait(TestExtensions.Bound)).Within();
        Ledger ledger = host.Services.GetRequiredService<Ledger>();

        await host.StopAsync().Within();

        // Asserted before the host (and so the container) is disposed: the drain itself ran the cleanups.
        cleanupErrors.Should().BeEmpty();
        ledger.Entries.Should().BeEquivalentTo("default", "emails");
        host.LogsWithEvent(100).Should().ContainSingle().Which.State("SupervisorCount").Should().Be("2");
        IReadOnlyList<FakeLogRecord> reports = host.LogsWithEvent(6);
        reports.Select(r => r.State("Supervisor")).Should().BeEquivalentTo("default", "emails");
        reports.Should().OnlyContain(r => r.State("TaskCount") == "1" && r.State("CanceledCount") == "1" && r.State("StragglerCount") == "0");
        reports.Should().OnlyContain(r => r.Level == LogLevel.Information && r.Id.Name == "DrainCompleted");
        host.Services.GetFakeLogCollector().GetSnapshot().Should().Contain(r => r.Message == "cleanup default")
            .And.Contain(r => r.Message == "cleanup emails");
    }

    [Fact]
    public async Task StopAsync_TaskIgnoresItsToken_DrainEndsAtShutdownTimeoutLessTheMargin_AndReportsTheStraggler()
    {
        var time = new FakeTimeProvider();
        using IHost host = TestHost.Build(s => s.AddTaskSupervisorHosting().AddTaskSupervisor(), shutdownTimeout: TimeSpan.FromSeconds(10), time: time);
        await host.StartAsync().Within();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<ITaskSupervisor>().Run("stubborn", async ct =>
        {
            ct.Register(() => cancelSeen.TrySetResult());
            started.TrySetResult();
            await release.Task;   // ignores its token
        });
        await started.Task.Within();

        Task stop = host.StopAsync();
        await cancelSeen.Task.Within();
        await time.AdvanceUntil(() => stop.IsCompleted, TimeSpan.FromSeconds(1));
        await stop.Within();

        host.LogsWithEvent(100).Should().ContainSingle().Which.State("TimeoutMs").Should().Be("9000", "10 s less 10 %");
        host.LogsWithEvent(106).Should().ContainSingle().Which.State("DeadlineMs").Should().Be("9000", "the host's is smaller than the supervisor's 30 s");
        host.LogsWithEvent(7).Should().ContainSingle().Which.State("TaskKey").Should().Be("stubborn");
        FakeLogRecord report = host.LogsWithEvent(6).Should().ContainSingle().Subject;
        report.State("StragglerCount").Should().Be("1");
        double.Parse(report.State("ElapsedMs")!, System.Globalization.CultureInfo.InvariantCulture).Should().BeInRange(9000, 10000);
        release.SetResult();
    }

    [Fact]
    public async Task StopAsync_DrainTimeoutOption_OverridesTheHostsShutdownTimeout()
    {
        using IHost host = TestHost.Build(
            s => s.AddTaskSupervisorHosting(o => o.DrainTimeout = TimeSpan.FromSeconds(3)).AddTaskSupervisor(),
            shutdownTimeout: TimeSpan.FromSeconds(60));
        await host.StartAsync().Within();

        await host.StopAsync().Within();

        host.LogsWithEvent(100).Should().ContainSingle().Which.State("TimeoutMs").Should().Be("3000");
        host.LogsWithEvent(6).Should().ContainSingle().Which.State("TaskCount").Should().Be("0");
    }

    [Fact]
    public async Task StopAsync_NoSupervisorRegistered_DoesNothing()
    {
        using IHost host = TestHost.Build(s => s.AddTaskSupervisorHosting());
        await host.StartAsync().Within();

        await host.StopAsync().Within();

        host.LogsWithEvent(100).Should().BeEmpty();
    }

    [Fact]
    public async Task StopAsync_AfterTheContainerWasDisposed_DoesNotThrow_TheContainerDrainedTheSupervisor()
    {
        IHost host = TestHost.Build(s => s.AddTaskSupervisorHosting().AddTaskSupervisor());
        await host.StartAsync().Within();
        ITaskSupervisor supervisor = host.Services.GetRequiredService<ITaskSupervisor>();
        IHostedService drainService = host.Services.GetServices<IHostedService>().Single(h => h.GetType().Name == "SupervisorDrainService");

        await ((IAsyncDisposable)host.Services).DisposeAsync();

        supervisor.IsClosed.Should().BeTrue("disposing the container drained it");
        await drainService.Invoking(d => d.StopAsync(CancellationToken.None)).Should().NotThrowAsync();
    }

    [Fact]
    public async Task StopAsync_SupervisorAlreadyDrained_ReturnsAtOnce_AndTheDrainIsLoggedOnce()
    {
        using IHost host = TestHost.Build(s => s.AddTaskSupervisorHosting().AddTaskSupervisor());
        await host.StartAsync().Within();
        await host.Services.GetRequiredService<ITaskSupervisor>().DrainAsync().Within();

        await host.StopAsync().Within();

        host.LogsWithEvent(6).Should().ContainSingle();
    }

    [Fact]
    public async Task StopAsync_SupervisorsShutdownTimeoutIsSmaller_DrainEndsAtIt_AndBothDeadlinesAreLogged()
    {
        // Issue 11: the supervisor's own ShutdownTimeout (the drain deadline of the README) was ignored under the host.
        var time = new FakeTimeProvider();
        using IHost host = TestHost.Build(
            s => s.AddTaskSupervisorHosting().AddTaskSupervisor(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2)),
            shutdownTimeout: TimeSpan.FromSeconds(60),
            time: time);
        await host.StartAsync().Within();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<ITaskSupervisor>().Run("stubborn", async _ =>
        {
            started.TrySetResult();
            await release.Task;   // ignores its token
        });
        await started.Task.Within();

        Task stop = host.StopAsync();
        await time.AdvanceUntil(() => stop.IsCompleted, TimeSpan.FromMilliseconds(500));
        await stop.Within();

        FakeLogRecord deadline = host.LogsWithEvent(106).Should().ContainSingle().Subject;
        deadline.State("DeadlineMs").Should().Be("2000");
        deadline.State("ShutdownTimeoutMs").Should().Be("2000");
        deadline.State("HostTimeoutMs").Should().Be("58000", "60 s less the 2 s margin");
        DrainReport report = host.Services.GetRequiredService<ITaskSupervisor>().LastDrainReport!;
        report.Stragglers.Should().ContainSingle().Which.Key.Should().Be("stubborn");
        report.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2)).And.BeLessThan(TimeSpan.FromSeconds(3));
        release.SetResult();
    }

    private static void Cleanup(IServiceProvider services, string name, List<Exception> errors)
    {
        try
        {
            services.GetRequiredService<Ledger>().Write(name);
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Cleanup").LogInformation("cleanup {Name}", name);
        }
        catch (ObjectDisposedException ex)
        {
            lock (errors)
            {
                errors.Add(ex);
            }
        }
    }
}
