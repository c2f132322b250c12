using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TaskSupervision.Hosting;

namespace TaskSupervision.Hosting.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddTaskSupervisorHosting_Twice_AddsOneHostedServiceAndOneHook_AndKeepsBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddTaskSupervisorHosting(o => o.DrainTimeout = TimeSpan.FromSeconds(3))
            .Should().BeSameAs(services);
        services.AddTaskSupervisorHosting(o => o.CriticalTaskFailure = CriticalTaskFailureBehavior.StopHost);
        services.AddTaskSupervisor(o => o.Name = "default");

        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IPostConfigureOptions<TaskSupervisorOptions>)).Should().Be(1);
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IHostedService>().Should().BeAssignableTo<IHostedLifecycleService>();
        TaskSupervisorHostingOptions options = provider.GetRequiredService<IOptions<TaskSupervisorHostingOptions>>().Value;
        options.DrainTimeout.Should().Be(TimeSpan.FromSeconds(3));
        options.CriticalTaskFailure.Should().Be(CriticalTaskFailureBehavior.StopHost);
        provider.GetRequiredService<IOptionsMonitor<TaskSupervisorOptions>>().Get(Options.DefaultName).OnTaskEnded!
            .GetInvocationList().Should().ContainSingle("a second call must not hook a second time");
    }

    [Fact]
    public void AddTaskSupervisorHosting_NullServices_Throws()
    {
        FluentActions.Invoking(() => ((IServiceCollection)null!).AddTaskSupervisorHosting()).Should().Throw<ArgumentNullException>();
    }
}
