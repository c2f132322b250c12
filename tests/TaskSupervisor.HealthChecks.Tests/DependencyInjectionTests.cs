using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace TaskSupervision.HealthChecks.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddTaskSupervisor_Twice_RegistersOneCheck_CountsEachEndOnce_AndKeepsBothConfigurations()
    {
        await using var harness = new CheckHarness(
            o => o.UnhealthyFaultedCount = 5,
            services: s => s.AddHealthChecks().AddTaskSupervisor(configure: o => o.MinimumEnded = 3));

        harness.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .Should().ContainSingle(r => r.Name == CheckHarness.CheckName);
        TaskSupervisorHealthCheckOptions options = harness.Services.GetRequiredService<IOptionsMonitor<TaskSupervisorHealthCheckOptions>>().Get(CheckHarness.CheckName);
        options.UnhealthyFaultedCount.Should().Be(5);
        options.MinimumEnded.Should().Be(3);

        await harness.FaultAsync(3);
        HealthReportEntry entry = await harness.CheckAsync();

        entry.Data["ended"].Should().Be(3L, "a second registration must not hook a second tracker");
        entry.Status.Should().Be(HealthStatus.Unhealthy, "3 of 3 faulted reaches the default share once 3 have ended");
    }

    [Fact]
    public void AddTaskSupervisor_ReturnsTheBuilder_AndRejectsBadNames()
    {
        var services = new ServiceCollection();
        IHealthChecksBuilder builder = services.AddHealthChecks();

        builder.AddTaskSupervisor().Should().BeSameAs(builder);
        FluentActions.Invoking(() => builder.AddTaskSupervisor(" ")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => builder.AddTaskSupervisor("x", supervisorName: "")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ((IHealthChecksBuilder)null!).AddTaskSupervisor()).Should().Throw<ArgumentNullException>();
    }
}
