using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Testing.Tests;

/// <summary>
/// AddTestSupervisor in a host's services, as a WebApplicationFactory's <c>ConfigureTestServices</c> calls it: after the
/// application's own registrations.
/// </summary>
public sealed class DependencyInjectionTests
{
    private sealed class OrderService(ITaskSupervisor supervisor)
    {
        public void PlaceOrder(int id) => supervisor.Run($"order:{id}", _ => id < 0 ? throw new ArgumentOutOfRangeException(nameof(id)) : Task.CompletedTask);
    }

    [Fact]
    public async Task AddTestSupervisor_ReplacesTheApplicationsSupervisor_AndUsesTheContainersClock()
    {
        var time = new FakeTimeProvider();
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskSupervisor();            // the application's registration
        builder.Services.AddTaskSupervisor("emails");    // a named one, left alone
        builder.Services.AddSingleton<OrderService>();
        builder.Services.AddSingleton<TimeProvider>(time); // the test's
        builder.Services.AddTestSupervisor();             // the test's replacement
        using IHost host = builder.Build();

        TestSupervisor tasks = host.Services.GetRequiredService<TestSupervisor>();
        host.Services.GetRequiredService<ITaskSupervisor>().Should().BeSameAs(tasks.Supervisor);
        host.Services.GetRequiredKeyedService<ITaskSupervisor>("emails").Should().NotBeSameAs(tasks.Supervisor);
        tasks.Supervisor.TimeProvider.Should().BeSameAs(time);

        host.Services.GetRequiredService<OrderService>().PlaceOrder(1);
        await tasks.WaitUntilQuiescentAsync();

        tasks.EndedTasks.Should().ContainSingle().Which.Key.Should().Be("order:1");
    }

    [Fact]
    public async Task AddTestSupervisor_FaultInTheApplicationsBackgroundWork_FailsTheTest()
    {
        var services = new ServiceCollection().AddTaskSupervisor().AddSingleton<OrderService>().AddTestSupervisor();
        await using ServiceProvider provider = services.BuildServiceProvider();
        TestSupervisor tasks = provider.GetRequiredService<TestSupervisor>();

        provider.GetRequiredService<OrderService>().PlaceOrder(-1);

        (await tasks.Awaiting(t => t.WaitUntilQuiescentAsync()).Should().ThrowAsync<TaskSupervisorAssertionException>())
            .Which.Message.Should().Contain("key=order:-1");
        tasks.TakeFailures().Should().ContainSingle();
    }

    [Fact]
    public void AddTestSupervisor_Twice_RegistersOne()
    {
        var services = new ServiceCollection().AddTestSupervisor().AddTestSupervisor();

        services.Count(d => d.ServiceType == typeof(ITaskSupervisor) && !d.IsKeyedService).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(TestSupervisor)).Should().Be(1);
    }

    [Fact]
    public async Task AddTestSupervisor_KeepsWhatTheApplicationConfigured_ItsCallbacksStillRun()
    {
        int applicationSaw = 0;
        var services = new ServiceCollection()
            .AddTaskSupervisor((o, _) =>
            {
                o.OnTaskEnded += _ => Interlocked.Increment(ref applicationSaw); // the application's own hook (a dead-letter store)
            })
            .AddSingleton<OrderService>()
            .AddTestSupervisor();
        await using ServiceProvider provider = services.BuildServiceProvider();
        TestSupervisor tasks = provider.GetRequiredService<TestSupervisor>();

        provider.GetRequiredService<OrderService>().PlaceOrder(1);
        await tasks.WaitUntilQuiescentAsync();

        applicationSaw.Should().Be(1, "the application's callback still runs under the test supervisor");
        tasks.EndedTasks.Should().ContainSingle().Which.Key.Should().Be("order:1");
        tasks.Supervisor.Name.Should().Be("test");
    }
}
