using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Hosting.Tests;

public sealed class HostDrainTests
{
    [Fact]
    public async Task StopAsync_DrainsEverySupervisor_BeforeTheContainerIsDisposed_AndLogsEachReport()
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
        IReadOnlyList<FakeLogRecord> reports = host.LogsWithEvent(101);
        reports.Select(r => r.State("Supervisor")).Should().BeEquivalentTo("default", "emails");
        reports.Should().OnlyContain(r => r.State("TaskCount") == "1" && r.State("CanceledCount") == "1" && r.State("StragglerCount") == "0");
        reports.Should().OnlyContain(r => r.Level == LogLevel.Information && r.Id.Name == "SupervisorDrained");
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
        FakeLogRecord report = host.LogsWithEvent(102).Should().ContainSingle().Subject;
        report.Level.Should().Be(LogLevel.Warning);
        report.State("StragglerCount").Should().Be("1");
        report.State("Stragglers").Should().Contain("key=stubborn");
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
        host.LogsWithEvent(101).Should().ContainSingle().Which.State("TaskCount").Should().Be("0");
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
    public async Task StopAsync_SupervisorAlreadyDrained_LogsItsReportAgain_WithoutWaiting()
    {
        using IHost host = TestHost.Build(s => s.AddTaskSupervisorHosting().AddTaskSupervisor());
        await host.StartAsync().Within();
        await host.Services.GetRequiredService<ITaskSupervisor>().DrainAsync().Within();

        await host.StopAsync().Within();

        host.LogsWithEvent(101).Should().ContainSingle();
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
