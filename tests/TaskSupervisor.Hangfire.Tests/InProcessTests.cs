using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using TaskSupervision.Hangfire.Tests.Infrastructure;
using TaskSupervision.Hangfire.Worker;

namespace TaskSupervision.Hangfire.Tests;

/// <summary>
/// Durable work in the test process on a real SQLite file: what a start refuses (and that it then stores nothing), keys
/// across two applications sharing the storage, and what the work learns about its delivery.
/// </summary>
public sealed class InProcessTests : IAsyncLifetime
{
    private readonly StorageTarget _target = StorageTarget.Sqlite();
    private readonly List<ServiceProvider> _providers = [];
    private JobStorage _storage = null!;

    public Task InitializeAsync()
    {
        _storage = _target.Open();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (ServiceProvider provider in _providers)
        {
            await provider.DisposeAsync();
        }

        _target.Dispose();
    }

    [Fact]
    public async Task RunDurableAsync_CallOnACapturedObject_IsRefusedWithTheReason_AndNothingIsStored()
    {
        DurableWork durable = CreateApplication();
        var captured = new Gated();

        Func<Task> start = () => durable.RunDurableAsync<IGated>("k", _ => captured.RunAsync(1, CancellationToken.None));

        (await start.Should().ThrowAsync<ArgumentException>()).WithMessage("*captured object*");
        AssertNothingStored();
    }

    [Fact]
    public async Task RunDurableAsync_LambdaArgumentCapturingALocal_IsRefusedWithTheReason_AndNothingIsStored()
    {
        DurableWork durable = CreateApplication();
        int local = 42;

        Func<Task> start = () => durable.RunDurableAsync<IGated>("k", s => s.RunWithCallbackAsync(() => local, CancellationToken.None));

        (await start.Should().ThrowAsync<ArgumentException>()).WithMessage("*lambda and the locals it captures cannot be stored*");
        AssertNothingStored();
    }

    [Fact]
    public async Task RunDurableAsync_ArgumentThatCannotBeSerialised_IsRefusedWithTheReason_AndNothingIsStored()
    {
        DurableWork durable = CreateApplication();
        using var stream = new MemoryStream([1, 2, 3]);

        Func<Task> start = () => durable.RunDurableAsync<IGated>("k", s => s.RunWithStreamAsync(stream, CancellationToken.None));

        (await start.Should().ThrowAsync<ArgumentException>()).WithMessage("*'data'*MemoryStream*JSON*");
        AssertNothingStored();
    }

    [Fact]
    public async Task RunDurableAsync_RealCancellationTokenArgument_IsRefused_AndNothingIsStored()
    {
        DurableWork durable = CreateApplication();
        using var cts = new CancellationTokenSource();

        Func<Task> start = () => durable.RunDurableAsync<IGated>("k", s => s.RunAsync(1, cts.Token));

        (await start.Should().ThrowAsync<ArgumentException>()).WithMessage("*CancellationToken.None*");
        AssertNothingStored();
    }

    [Fact]
    public async Task RunDurableAsync_UnregisteredService_IsRefusedWithTheReason_AndNothingIsStored()
    {
        DurableWork durable = CreateApplication();

        Func<Task> start = () => durable.RunDurableAsync<IUnregistered>("k", s => s.RunAsync(CancellationToken.None));

        (await start.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*IUnregistered is not registered in the container*");
        AssertNothingStored();
    }

    [Fact]
    public async Task RunDurableAsync_KeyHeldByAnotherApplication_RejectThrows_UseExistingReturnsTheStoredJob()
    {
        var gate = new Gated();
        DurableWork first = CreateApplication(gate);
        DurableWork second = CreateApplication(new Gated());
        DurableTask running = await first.RunDurableAsync<IGated>("order:1", s => s.RunAsync(1, CancellationToken.None));
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Func<Task> reject = () => second.RunDurableAsync<IGated>("order:1", s => s.RunAsync(1, CancellationToken.None));
        (await reject.Should().ThrowAsync<TaskKeyConflictException>()).Which.Key.Should().Be("order:1");
        DurableTask existing = await second.RunDurableAsync<IGated>("order:1", s => s.RunAsync(1, CancellationToken.None), new TaskOptions { IfKeyRunning = KeyConflictBehavior.UseExisting });
        existing.IsExisting.Should().BeTrue();
        existing.JobId.Should().Be(running.JobId);
        existing.Task.Should().BeNull("the work runs in the other application");

        gate.Release.TrySetResult();
        await running.Task!.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(() => first.Count == 0, TimeSpan.FromSeconds(30), () => "the completion to be recorded");
        DurableTask again = await second.RunDurableAsync<IGated>("order:1", s => s.RunAsync(2, CancellationToken.None));
        again.IsExisting.Should().BeFalse("a completed work frees its key");
    }

    [Fact]
    public async Task RunDurableAsync_WorkRestartedInProcess_LearnsItsDelivery_AndTheCompletionDeletesTheStoredJob()
    {
        var gate = new Gated { FailFirst = true };
        gate.Release.TrySetResult();
        DurableWork durable = CreateApplication(gate);
        var restart = new RestartPolicy { Mode = RestartMode.OnFailure, MaxRestarts = 3, InitialDelay = TimeSpan.FromMilliseconds(1), Jitter = 0 };

        DurableTask started = await durable.RunDurableAsync<IGated>("k", s => s.RunAsync(7, CancellationToken.None), new TaskOptions { Restart = restart });
        await started.Task!.Task.WaitAsync(TimeSpan.FromSeconds(30));

        gate.Deliveries.Should().Equal(1, 2);
        gate.Contexts.Should().OnlyContain(c => c.Key == "k" && c.JobId == started.JobId && c.IsInProcess);
        using IStorageConnection connection = _storage.GetConnection();
        connection.GetStateData(started.JobId).Name.Should().Be("Deleted");
        durable.Count.Should().Be(0);
    }

    private DurableWork CreateApplication(Gated? gated = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(_storage);
        services.AddSingleton<IGated>(gated ?? new Gated());
        services.AddTaskSupervisor().AddDurableWork(o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<DurableWork>();
    }

    private void AssertNothingStored() => _storage.GetMonitoringApi().GetStatistics().Should().BeEquivalentTo(new { Scheduled = 0L, Enqueued = 0L, Deleted = 0L, Processing = 0L }, o => o.ExcludingMissingMembers());
}

/// <summary>A durable service that records each delivery and waits on a gate.</summary>
public interface IGated
{
    Task RunAsync(int id, CancellationToken cancellationToken);

    Task RunWithCallbackAsync(Func<int> callback, CancellationToken cancellationToken);

    Task RunWithStreamAsync(Stream data, CancellationToken cancellationToken);
}

/// <summary>Never registered.</summary>
public interface IUnregistered
{
    Task RunAsync(CancellationToken cancellationToken);
}

public sealed class Gated : IGated
{
    private readonly List<DurableWorkContext> _contexts = [];

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool FailFirst { get; init; }

    public IReadOnlyList<DurableWorkContext> Contexts
    {
        get
        {
            lock (_contexts)
            {
                return [.. _contexts];
            }
        }
    }

    public IEnumerable<int> Deliveries => Contexts.Select(c => c.Delivery);

    public async Task RunAsync(int id, CancellationToken cancellationToken)
    {
        DurableWorkContext context = DurableWorkContext.Current!;
        int count;
        lock (_contexts)
        {
            _contexts.Add(context);
            count = _contexts.Count;
        }

        Started.TrySetResult();
        await Release.Task.WaitAsync(cancellationToken);
        if (FailFirst && count == 1)
        {
            throw new InvalidOperationException("The first delivery fails.");
        }
    }

    public Task RunWithCallbackAsync(Func<int> callback, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task RunWithStreamAsync(Stream data, CancellationToken cancellationToken) => Task.CompletedTask;
}
