// A host as an application writes it, with one supervised task that ignores its token. The supervisor's own
// ShutdownTimeout (2 s) is smaller than the host's (30 s), so on SIGTERM the drain must end at 2 s, not near 30 s.
// Logs go to stdout, one line each, so the test reads event 106 and the drain's end. "ready" says the task runs.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskSupervision;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
builder.Services.AddTaskSupervisorHosting().AddTaskSupervisor(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));

using IHost host = builder.Build();
await host.StartAsync();

var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
host.Services.GetRequiredService<ITaskSupervisor>().Run("stubborn", async _ =>
{
    started.TrySetResult();
    await never.Task;   // ignores its token: a straggler at the drain's deadline
});
await started.Task;
Console.WriteLine("ready");

await host.WaitForShutdownAsync();
return 0;
