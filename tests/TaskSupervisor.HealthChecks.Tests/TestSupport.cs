using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace TaskSupervision.HealthChecks.Tests;

/// <summary>A container with a supervisor and its health check, on a fake clock, for one test.</summary>
internal sealed class CheckHarness : IAsyncDisposable
{
    public const string CheckName = "task-supervisor";

    public CheckHarness(
        Action<TaskSupervisorHealthCheckOptions>? configure = null,
        Action<TaskSupervisorOptions>? supervisor = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(Time);
        collection.AddLogging(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
        collection.AddTaskSupervisor(supervisor);
        collection.AddHealthChecks().AddTaskSupervisor(configure: configure);
        services?.Invoke(collection);
        Services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Supervisor = Services.GetRequiredService<ITaskSupervisor>();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public FakeLogCollector Logs { get; } = new();

    public ServiceProvider Services { get; }

    public ITaskSupervisor Supervisor { get; }

    public async Task<HealthReportEntry> CheckAsync(string name = CheckName)
    {
        HealthReport report = await Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().Within();
        return report.Entries[name];
    }

    /// <summary>Runs <paramref name="count"/> tasks that complete, and waits until they have ended and their callbacks ran.</summary>
    public Task CompleteAsync(int count, ITaskSupervisor? supervisor = null) =>
        EndAllAsync(count, () => (supervisor ?? Supervisor).Run(_ => Task.CompletedTask));

    /// <summary>Runs <paramref name="count"/> tasks that fault, and waits until they have ended and their callbacks ran.</summary>
    public Task FaultAsync(int count, ITaskSupervisor? supervisor = null) =>
        EndAllAsync(count, () => (supervisor ?? Supervisor).Run(_ => Task.FromException(new InvalidOperationException("boom"))));

    /// <summary>Starts a task that runs until it is cancelled.</summary>
    public SupervisedTask RunUntilCanceled(string? key = null, ITaskSupervisor? supervisor = null)
    {
        supervisor ??= Supervisor;
        Func<CancellationToken, Task> work = ct => Task.Delay(Timeout.InfiniteTimeSpan, Time, ct);
        return key is null ? supervisor.Run(work) : supervisor.Run(key, work);
    }

    public async ValueTask DisposeAsync()
    {
        // Every task here honours its token, so the drain ends without the clock moving; the advance is a safety net.
        Task<DrainReport> drain = Supervisor.DrainAsync(TimeSpan.FromSeconds(1));
        Time.Advance(TimeSpan.FromSeconds(1));
        await drain.Within();
        await Services.DisposeAsync();
    }

    private static async Task EndAllAsync(int count, Func<SupervisedTask> start)
    {
        var tasks = new Task[count];
        for (int i = 0; i < count; i++)
        {
            tasks[i] = start().Task;
        }

        // A handle's task completes after the task's callbacks (the tracker's among them) have run. WhenAny never throws.
        foreach (Task task in tasks)
        {
            await Task.WhenAny(task).Within();
        }
    }
}
