using Hangfire;
using Hangfire.Storage.SQLite;
using TaskSupervision;
using TaskSupervision.Hangfire;

namespace PitfallsDemo.Durable;

/// <summary>
/// The critical job of pitfall 2 made durable (TaskSupervisor.Hangfire): <c>-- --durable jobs.db</c> stores order
/// confirmations in a SQLite file before they run, so a crash of this copy of the app loses none: another copy that
/// shares the file runs it when the lease runs out.
/// </summary>
internal static class CriticalJobs
{
    /// <summary>A short lease, so that the tour's second copy picks the job up within seconds of the crash.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    /// <summary>The path of the SQLite file after <c>--durable</c>, or <see langword="null"/>: durable work is off.</summary>
    public static string? DatabasePath(string[] args)
    {
        int at = Array.IndexOf(args, "--durable");
        return at >= 0 && at + 1 < args.Length ? Path.GetFullPath(args[at + 1]) : null;
    }

    public static void AddCriticalJobs(this IServiceCollection services, string databasePath)
    {
        services.AddSingleton(new ConfirmationLog(Path.ChangeExtension(databasePath, ".confirmations.log")));
        services.AddScoped<IOrderConfirmations, OrderConfirmations>();
        services.AddHangfire(c => c.UseSQLiteStorage(databasePath, new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromSeconds(1) }));

        // Two workers: the SQLite storage serialises its queue fetch, more workers fetch slower (see the README).
        services.AddHangfireServer(o =>
        {
            o.WorkerCount = 2;
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });
        services.AddDurableWork(o =>
        {
            o.LeaseDuration = Lease;
            o.LeaseRenewalInterval = Lease / 3;
        });
    }

    public static void MapCriticalJobs(this WebApplication app)
    {
        // Fixed and durable: stored before the 202, run at once in this process, and run by any copy of the app if this
        // one dies first.
        app.MapPost("/critical/orders/{id:int}/confirm", async (int id, DurableWork durable, CancellationToken cancellationToken) =>
        {
            DurableTask job = await durable.RunDurableAsync<IOrderConfirmations>(
                "order:" + id,
                s => s.ConfirmAsync(id, CancellationToken.None),
                new TaskOptions { Name = "confirm-order", IfKeyRunning = KeyConflictBehavior.UseExisting },
                cancellationToken);
            return Results.Accepted(value: new CriticalJobStarted(job.Key, job.JobId, Environment.ProcessId));
        });
    }
}

/// <summary>The reply of the critical route: the stored job that will confirm the order, and the process that started it.</summary>
internal sealed record CriticalJobStarted(string Key, string JobId, int ProcessId);

/// <summary>Confirms orders. Public for Hangfire, which stores the call by type and method name.</summary>
public interface IOrderConfirmations
{
    /// <summary>Confirms the order; a second delivery finds out it is one and may check what the first did.</summary>
    Task ConfirmAsync(int orderId, CancellationToken cancellationToken);
}

internal sealed class OrderConfirmations(ConfirmationLog log) : IOrderConfirmations
{
    /// <summary>How long a confirmation takes (a call to a slow payment service): the window a crash hits.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    public async Task ConfirmAsync(int orderId, CancellationToken cancellationToken)
    {
        DurableWorkContext context = DurableWorkContext.Current!;
        string where = context.IsInProcess ? "in process" : "by Hangfire";
        Console.WriteLine($"confirming order {orderId} (delivery {context.Delivery}, {where}) in process {Environment.ProcessId}");
        await Task.Delay(Duration, cancellationToken).ConfigureAwait(false);
        log.Write($"order {orderId} confirmed by process {Environment.ProcessId} on delivery {context.Delivery} ({where})");
    }
}

/// <summary>The confirmations, one line each, in a file beside the database: the evidence that outlives a crash.</summary>
internal sealed class ConfirmationLog(string path)
{
    private readonly object _gate = new();

    public string Path { get; } = path;

    public void Write(string line)
    {
        lock (_gate)
        {
            File.AppendAllLines(Path, [line]);
        }

        Console.WriteLine(line);
    }
}
