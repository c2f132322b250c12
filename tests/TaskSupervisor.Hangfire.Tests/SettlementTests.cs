using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using TaskSupervision.Hangfire.Tests.Infrastructure;
using TaskSupervision.Hangfire.Worker;

namespace TaskSupervision.Hangfire.Tests;

/// <summary>
/// The storage changes that settle durable work (the delete after a completion, the hand-off) against a real PostgreSQL
/// server with a real fault: the test locks the stored job's row in a transaction of its own, so that the storage's
/// writes to that job wait (a slow storage) or, with a <c>lock_timeout</c>, fail (a failing storage). Time is a
/// <see cref="FakeTimeProvider"/>: the retries' backoff moves only when the test advances it.
/// </summary>
public sealed class SettlementTests(PostgresServer server) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    /// <summary>A bound on each wait: a hang fails the test, slowness on a loaded machine does not.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private readonly string _schema = PostgresServer.NewSchema();
    private readonly FakeTimeProvider _time = new();
    private readonly LogRecorder _log = new();
    private readonly List<ServiceProvider> _providers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (ServiceProvider provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }

    [Fact]
    public async Task CompletionDelete_FailsInTheStorage_IsRetriedAfterTheBackoff_AndTheStoredJobIsDeleted()
    {
        // Regression (normal path under load): a delete that failed once was never retried, and Hangfire ran the completed
        // job again when its lease ran out. Here the storage's write waits for the test's row lock and gives up after 1 s.
        (DurableWork durable, JobStorage storage, Gated gate) = CreateApplication("Options=-c lock_timeout=1000");
        DurableTask started = await durable.RunDurableAsync<IGated>("order:1", s => s.RunAsync(1, CancellationToken.None));
        await gate.Started.Task.WaitAsync(Bound);

        await using (RowLock rowLock = await RowLock.TakeAsync(server, _schema, started.JobId))
        {
            gate.Release.TrySetResult();
            await _log.WhenLogged(7).WaitAsync(Bound);
            started.Task!.Task.IsCompleted.Should().BeFalse("the delete is made before the task ends, inside its run slot");
            await rowLock.ReleaseAsync();
        }

        _time.Advance(TimeSpan.FromMilliseconds(200));
        await started.Task.Task.WaitAsync(Bound);

        StateName(storage, started.JobId).Should().Be("Deleted");
        _log.Events.Should().NotContain(e => e.Id.Id == 3, "the completion was recorded at the second attempt");
        durable.Count.Should().Be(0);
    }

    [Fact]
    public async Task HandOff_StorageBlocked_TheTaskEndsWithoutWaitingForIt_AndTheJobIsEnqueuedOnceTheStorageFrees()
    {
        // The hand-off was made inside the supervisor's end callback: a slow storage held the task's end (its run slot,
        // its awaiters, the drain). Here the storage's write to the job waits for as long as the test holds the row.
        (DurableWork durable, JobStorage storage, Gated gate) = CreateApplication();
        DurableTask started = await durable.RunDurableAsync<IGated>("order:1", s => s.RunAsync(1, CancellationToken.None));
        await gate.Started.Task.WaitAsync(Bound);

        await using (RowLock rowLock = await RowLock.TakeAsync(server, _schema, started.JobId))
        {
            started.Task!.Cancel();
            await started.Task.Task.WaitAsync(Bound).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            started.Task.Status.Should().Be(SupervisedTaskStatus.Canceled, "the task ends while its hand-off waits for the storage");
            StateName(storage, started.JobId).Should().Be("Scheduled", "the hand-off cannot pass the row lock");
            await rowLock.ReleaseAsync();
        }

        await Wait.UntilAsync(() => StateName(storage, started.JobId) == "Enqueued", Bound, () => "the hand-off to land");
    }

    [Fact]
    public async Task DisposeAsync_HandOffStillQueued_WaitsForIt_SoTheJobIsEnqueuedWhenItReturns()
    {
        (DurableWork durable, JobStorage storage, Gated gate) = CreateApplication();
        DurableTask started = await durable.RunDurableAsync<IGated>("order:1", s => s.RunAsync(1, CancellationToken.None));
        await gate.Started.Task.WaitAsync(Bound);

        Task disposal;
        await using (RowLock rowLock = await RowLock.TakeAsync(server, _schema, started.JobId))
        {
            // The drain (no grace period) cancels the work at once; its hand-off then waits for the row.
            disposal = durable.DisposeAsync().AsTask();
            await started.Task!.Task.WaitAsync(Bound).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            started.Task.Status.Should().Be(SupervisedTaskStatus.Canceled);
            disposal.IsCompleted.Should().BeFalse("the hand-off cannot pass the row lock, and disposal waits for it");
            await rowLock.ReleaseAsync();
        }

        await disposal.WaitAsync(Bound);
        StateName(storage, started.JobId).Should().Be("Enqueued", "disposal returned after the hand-off");
        _log.Events.Should().NotContain(e => e.Id.Id == 8, "nothing was left unfinished");
    }

    private (DurableWork Durable, JobStorage Storage, Gated Gate) CreateApplication(string connectionOptions = "")
    {
        string connection = connectionOptions.Length == 0 ? server.ConnectionString : server.ConnectionString + ";" + connectionOptions;
        JobStorage storage = Storages.Create("pg", connection, _schema);
        var gate = new Gated();
        var services = new ServiceCollection();
        services.AddSingleton(storage);
        services.AddSingleton<IGated>(gate);
        services.AddSingleton<TimeProvider>(_time);
        services.AddLogging(b => b.AddProvider(_log));
        services.AddTaskSupervisor().AddDurableWork(o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return (provider.GetRequiredService<DurableWork>(), storage, gate);
    }

    private static string? StateName(JobStorage storage, string jobId)
    {
        using IStorageConnection connection = storage.GetConnection();
        return connection.GetStateData(jobId)?.Name;
    }
}

/// <summary>
/// The stored job's row locked (<c>FOR UPDATE</c>) in a transaction of the test's own connection: the storage's writes to
/// the job wait for it, while plain reads go on.
/// </summary>
internal sealed class RowLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private RowLock(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<RowLock> TakeAsync(PostgresServer server, string schema, string jobId)
    {
        var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"SELECT id FROM {schema}.job WHERE id = @id FOR UPDATE", connection, transaction);
        command.Parameters.AddWithValue("id", long.Parse(jobId, System.Globalization.CultureInfo.InvariantCulture));
        (await command.ExecuteScalarAsync()).Should().NotBeNull("the job is stored");
        return new RowLock(connection, transaction);
    }

    public Task ReleaseAsync() => _transaction.RollbackAsync();

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
