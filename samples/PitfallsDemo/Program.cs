using PitfallsDemo;
using PitfallsDemo.Durable;
using PitfallsDemo.Pitfalls;
using PitfallsDemo.Support;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TaskSupervision;

if (args.Contains("--tour"))
{
    return await Tour.RunAsync(Console.Out);
}

WebApplication app = Program.BuildApp(args);
await app.RunAsync();
return 0;

/// <summary>The demo app: three pitfalls of fire-and-forget work, each broken and fixed side by side.</summary>
public partial class Program
{
    internal static WebApplication BuildApp(string[] args, bool tour = false)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

        // Keep the story readable: the framework speaks only when something is wrong. The tour prints its own lines and
        // the log records it needs (from the journal), so it has no console logger at all.
        if (tour)
        {
            builder.Logging.ClearProviders();
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

        LogJournal journal = new();
        builder.Logging.AddProvider(journal);
        builder.Services.AddSingleton(journal);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<UserDirectory>();
        builder.Services.AddSingleton<Mailer>();
        builder.Services.AddSingleton<FailedJobs>();
        builder.Services.AddSingleton<MonitorCleanups>();

        // The load jobs' balance is printed at the end of the shutdown drain, except in the tour, which prints its own.
        builder.Services.AddSingleton(new JobAccounting { Output = tour ? null : Console.Out });

        // Drains every supervisor inside the host's stop, before the container is disposed. Registered before the app's
        // own hosted services, so that they stop first (hosted services stop in reverse order).
        builder.Services.AddTaskSupervisorHosting();
        builder.Services.AddTaskSupervisor(o => o.ShutdownTimeout = DemoTimings.ShutdownTimeout);
        builder.Services.AddHealthChecks().AddTaskSupervisor();

        // The live dashboard at /tasks (TaskSupervisor.AspNetCore), read-only by default. FOR THE DEMO ONLY, cancel is
        // enabled for requests from this machine: the policy below checks the caller's address, not who the caller is.
        // A real app names a policy of its own (an "ops" role) and maps the whole dashboard behind its login.
        builder.Services.AddAuthorizationBuilder().AddPolicy(DemoDashboard.LoopbackOnlyPolicy, DemoDashboard.LoopbackOnly);
        builder.Services.AddTaskSupervisorDashboard(o =>
        {
            o.EnableCancel = true;
            o.CancelPolicy = DemoDashboard.LoopbackOnlyPolicy;
        });

        // `-- --otel`: export the supervisor's metrics and traces (and the requests', to see the links) to the console.
        if (args.Contains("--otel"))
        {
            builder.Services.AddOpenTelemetry()
                .WithTracing(t => t.AddSource(TaskSupervisorDiagnostics.ActivitySourceName, "Microsoft.AspNetCore").AddConsoleExporter())
                .WithMetrics(m => m.AddMeter(TaskSupervisorDiagnostics.MeterName).AddConsoleExporter());
        }

        // The dead-letter callback and the load jobs' accounting need services, so they are configured through the options pipeline.
        builder.Services.AddOptions<TaskSupervisorOptions>()
            .Configure<FailedJobs, JobAccounting>(static (o, failedJobs, accounting) =>
            {
                o.OnTaskEnded += failedJobs.Record;
                o.OnTaskEnded += accounting.Record;
            });

        builder.Services.AddSingleton<DrainOnShutdown>();
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<DrainOnShutdown>());

        // `-- --durable jobs.db`: the critical-job route with durable work (TaskSupervisor.Hangfire, SQLite storage).
        string? durableDatabase = CriticalJobs.DatabasePath(args);
        if (durableDatabase is not null)
        {
            builder.Services.AddCriticalJobs(durableDatabase);
        }

        WebApplication app = builder.Build();

        app.MapUnawaitedWork();
        app.MapSilentFailures();
        app.MapLeakedTasks();
        app.MapGet("/status", DemoStatus.Create);
        app.MapHealthChecks("/health");
        app.MapTaskSupervisorDashboard("/tasks");
        app.MapLoadJobs();
        if (durableDatabase is not null)
        {
            app.MapCriticalJobs();
        }

        return app;
    }
}
