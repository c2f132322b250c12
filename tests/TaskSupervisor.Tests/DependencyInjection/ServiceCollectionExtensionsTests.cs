using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.Tests.DependencyInjection;

public sealed class ServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddTaskSupervisor_RegistersASingleton()
    {
        await using ServiceProvider provider = new ServiceCollection().AddTaskSupervisor().BuildServiceProvider();

        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();

        supervisor.Should().BeSameAs(provider.GetRequiredService<ITaskSupervisor>());
        supervisor.Name.Should().Be("default");
    }

    [Fact]
    public void AddTaskSupervisor_Twice_RegistersOneSupervisor_AndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();

        services.AddTaskSupervisor(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5))
            .AddTaskSupervisor(o => o.DrainGracePeriod = TimeSpan.FromSeconds(1));

        services.Count(d => d.ServiceType == typeof(ITaskSupervisor)).Should().Be(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TaskSupervisorOptions>>().Value;
        options.ShutdownTimeout.Should().Be(TimeSpan.FromSeconds(5));
        options.DrainGracePeriod.Should().Be(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AddTaskSupervisor_Named_ResolvesAsKeyedService_SeparateFromTheDefault()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddTaskSupervisor()
            .AddTaskSupervisor("emails")
            .AddTaskSupervisor("emails")
            .BuildServiceProvider();

        ITaskSupervisor emails = provider.GetRequiredKeyedService<ITaskSupervisor>("emails");

        emails.Name.Should().Be("emails");
        emails.Should().NotBeSameAs(provider.GetRequiredService<ITaskSupervisor>());
        emails.Run("k", ct => Task.Delay(Timeout.Infinite, ct));
        provider.GetRequiredService<ITaskSupervisor>().TryGetTask("k", out _).Should().BeFalse();
    }

    [Fact]
    public void AddTaskSupervisor_BadArguments_Throw()
    {
        var services = new ServiceCollection();

        services.Invoking(s => s.AddTaskSupervisor(" ")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ((IServiceCollection)null!).AddTaskSupervisor()).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task AddTaskSupervisor_WithServices_ConfiguresFromTheContainer()
    {
        var failed = new List<string?>();
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton(failed)
            .AddTaskSupervisor((o, services) => o.OnTaskEnded += e => services.GetRequiredService<List<string?>>().Add(e.Key))
            .AddTaskSupervisor("emails", (o, services) => o.ShutdownTimeout = TimeSpan.FromSeconds(3))
            .BuildServiceProvider();

        await provider.GetRequiredService<ITaskSupervisor>().Run("job:1", _ => Task.CompletedTask).Task.Within();

        failed.Should().Equal("job:1");
        provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<TaskSupervisorOptions>>().Get("emails").ShutdownTimeout
            .Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task ContainerDisposal_DrainsTheSupervisor()
    {
        ServiceProvider provider = new ServiceCollection().AddTaskSupervisor().BuildServiceProvider();
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool cleanedUp = false;
        SupervisedTask task = supervisor.Run(async ct =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cleanedUp = true;
            }
        });
        await started.Task.Within();

        await provider.DisposeAsync().AsTask().Within();

        cleanedUp.Should().BeTrue();
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
        supervisor.Invoking(s => s.Run(_ => Task.CompletedTask)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task SynchronousContainerDisposal_AlsoDrains()
    {
        ServiceProvider provider = new ServiceCollection().AddTaskSupervisor().BuildServiceProvider();
        SupervisedTask task = provider.GetRequiredService<ITaskSupervisor>().Run(ct => Task.Delay(Timeout.Infinite, ct));

        provider.Dispose();

        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
        await task.Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();
    }

    [Fact]
    public async Task UsesTheTimeProviderAndLoggerFactoryFromTheContainer()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var logs = new FakeLogCollector();
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)))
            .AddTaskSupervisor()
            .BuildServiceProvider();

        SupervisedTask task = provider.GetRequiredService<ITaskSupervisor>().Run(_ => throw new InvalidOperationException("x"));
        await task.Task.ContinueWith(_ => { }, TaskScheduler.Default).Within();

        task.StartedAt.Should().Be(time.GetUtcNow());
        logs.GetSnapshot().Should().Contain(r => r.Id.Name == "TaskFaulted");
    }

    [Fact]
    public async Task ScopedRun_ResolvesFromAFreshScope_DisposedAfterTheWorkEnds()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddScoped<ScopedThing>()
            .AddTaskSupervisor()
            .BuildServiceProvider();
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();
        ScopedThing requestThing;
        ScopedThing? taskThing = null;
        await using (AsyncServiceScope request = provider.CreateAsyncScope())
        {
            requestThing = request.ServiceProvider.GetRequiredService<ScopedThing>();
            SupervisedTask task = supervisor.Run((services, ct) =>
            {
                taskThing = services.GetRequiredService<ScopedThing>();
                taskThing.Disposed.Should().BeFalse();
                return Task.CompletedTask;
            });
            await task.Task.Within();
        }

        taskThing.Should().NotBeNull().And.NotBeSameAs(requestThing);
        taskThing!.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task ScopedRun_Keyed_ScopeOutlivesTheRequestScope()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddScoped<ScopedThing>()
            .AddTaskSupervisor()
            .BuildServiceProvider();
        ITaskSupervisor supervisor = provider.GetRequiredService<ITaskSupervisor>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool disposedWhileUsed = true;
        SupervisedTask task;
        await using (provider.CreateAsyncScope())
        {
            task = supervisor.Run("job", async (services, ct) =>
            {
                ScopedThing thing = services.GetRequiredService<ScopedThing>();
                await release.Task;
                disposedWhileUsed = thing.Disposed;
            });
        }

        release.SetResult();
        await task.Task.Within();
        disposedWhileUsed.Should().BeFalse();
    }

    private sealed class ScopedThing : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
