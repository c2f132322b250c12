// The worker of the real-process tests. One process of the application: a Hangfire server plus durable work.
//   TaskSupervisor.Hangfire.Worker <sqlite|pg> <file or connection string> <schema> <results dir> <name> [key=value...]
// Options: produce=N (start N durable jobs, key job:<i>, from producers=P loops), work-ms=M, hangfire-work-ms=H (how
//          long the work takes when this process's Hangfire server runs it), fail=1 (start one job that always fails),
//          lease-ms=L, concurrency=C (the supervisor's MaxConcurrency), workers=W (Hangfire's worker count), server=0 (no
//          Hangfire server in this process), handoff=1 (every in-process delivery fails at once, so each job is handed
//          off: the hand-off throughput figure), quiet=1 (no log output, so that a thousand hand-off lines cost nothing).
// It prints "ready" once the host has started and "stored N" once N starts have returned, then runs until stopped.
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskSupervision;
using TaskSupervision.Hangfire;
using TaskSupervision.Hangfire.Worker;

string kind = args[0];
string connection = args[1];
string schema = args[2];
string results = args[3];
string name = args[4];
Dictionary<string, string> options = args.Skip(5).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
int Option(string key, int fallback) => options.TryGetValue(key, out string? value) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;

int produce = Option("produce", 0);
int workMs = Option("work-ms", 0);
var lease = TimeSpan.FromMilliseconds(Option("lease-ms", 3_000));
if (options.ContainsKey("hangfire-work-ms"))
{
    ProbeSettings.HangfireWorkMs = Option("hangfire-work-ms", 0);
}

HostApplicationBuilder builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(Option("quiet", 0) == 1 ? LogLevel.None : LogLevel.Warning);
builder.Logging.AddFilter("Hangfire", LogLevel.Error);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
builder.Services.AddSingleton(new ResultLog(Path.Combine(results, $"{name}-{Environment.ProcessId}.log")));
builder.Services.AddScoped<IProbeWork, ProbeWork>();
JobStorage storage = Storages.Create(kind, connection, schema);
builder.Services.AddHangfire(c => c.UseStorage(storage));
if (Option("server", 1) == 1)
{
    builder.Services.AddHangfireServer(o =>
    {
        // The SQLite storage serialises its queue fetch behind a lock whose waiters back off for seconds: few workers fetch faster.
        o.WorkerCount = Option("workers", kind == "sqlite" ? 2 : 10);
        o.SchedulePollingInterval = TimeSpan.FromMilliseconds(250);
        o.ServerName = name;
    });
}

ProbeSettings.HandOffInProcess = Option("handoff", 0) == 1;
builder.Services.AddTaskSupervisor(o =>
{
    o.MaxConcurrency = Option("concurrency", 64);
    o.ShutdownTimeout = TimeSpan.FromSeconds(5);
});
builder.Services.AddTaskSupervisorHosting();
builder.Services.AddDurableWork(o =>
{
    o.LeaseDuration = lease;
    o.LeaseRenewalInterval = lease / 3;
});

using IHost host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");

DurableWork durable = host.Services.GetRequiredService<DurableWork>();
int producers = Option("producers", 4);
int next = -1;
await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
{
    for (int id = Interlocked.Increment(ref next); id < produce; id = Interlocked.Increment(ref next))
    {
        await durable.RunDurableAsync<IProbeWork>($"job:{id}", s => s.DoAsync(id, workMs, CancellationToken.None));
    }
})));
ProbeSettings.AllStored.TrySetResult();
if (produce > 0)
{
    Console.WriteLine($"stored {produce}");
}

if (Option("fail", 0) == 1)
{
    var restart = new RestartPolicy { Mode = RestartMode.OnFailure, MaxRestarts = 2, InitialDelay = TimeSpan.FromMilliseconds(10), Jitter = 0 };
    await durable.RunDurableAsync<IProbeWork>("fail:0", s => s.FailAsync(0, CancellationToken.None), new TaskOptions { Restart = restart });
    Console.WriteLine("stored 1");
}

await host.WaitForShutdownAsync();
Console.WriteLine("stopped");
