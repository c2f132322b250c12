using VerifyCS = TaskSupervision.Analyzers.Tests.Verify<
    TaskSupervision.Analyzers.CapturedRequestStateAnalyzer,
    TaskSupervision.Analyzers.CapturedRequestStateCodeFixProvider>;

namespace TaskSupervision.Analyzers.Tests;

public class CapturedRequestStateTests
{
    private const string Types = """

        class AppDbContext : Microsoft.EntityFrameworkCore.DbContext { }

        interface IEmailSender { Task SendAsync(string to, CancellationToken ct); }
        """;

    [Fact]
    public async Task Captured_db_context_field_is_resolved_from_the_task_scope()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class OrdersController(ITaskSupervisor supervisor, AppDbContext db)
            {
                private readonly AppDbContext _db = db;

                public void Archive()
                {
                    supervisor.Run(async ct =>
                    {
                        await {|#0:_db|}.SaveChangesAsync(ct);
                        await this._db.SaveChangesAsync(ct); // the same capture: reported once per lambda
                    });
                }
            }
            """ + Types;
        const string fixedSource = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;
            using Microsoft.Extensions.DependencyInjection;

            class OrdersController(ITaskSupervisor supervisor, AppDbContext db)
            {
                private readonly AppDbContext _db = db;

                public void Archive()
                {
                    supervisor.Run(async (services, ct) =>
                    {
                        await services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct);
                        await services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct); // the same capture: reported once per lambda
                    });
                }
            }
            """ + Types;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("_db")], fixedSource, iterations: 1);
    }

    [Fact]
    public async Task Captured_from_services_parameter_of_a_handler_is_resolved_from_the_task_scope()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Mvc;
            using Microsoft.Extensions.DependencyInjection;
            using TaskSupervision;

            class Endpoints
            {
                public static void Handle([FromServices] IEmailSender sender, [FromServices] ITaskSupervisor supervisor, string to)
                {
                    supervisor.Run(ct => {|#0:sender|}.SendAsync(to, ct));
                }
            }
            """ + Types;
        const string fixedSource = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Mvc;
            using Microsoft.Extensions.DependencyInjection;
            using TaskSupervision;

            class Endpoints
            {
                public static void Handle([FromServices] IEmailSender sender, [FromServices] ITaskSupervisor supervisor, string to)
                {
                    supervisor.Run((services, ct) => services.GetRequiredService<IEmailSender>().SendAsync(to, ct));
                }
            }
            """ + Types;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("sender")], fixedSource);
    }

    [Fact]
    public async Task Existing_scope_parameter_is_reused()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TaskSupervision;

            class Jobs(ITaskSupervisor supervisor, AppDbContext db)
            {
                public void Start() => supervisor.Run((sp, ct) => {|#0:db|}.SaveChangesAsync(ct));
            }
            """ + Types;
        const string fixedSource = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TaskSupervision;

            class Jobs(ITaskSupervisor supervisor, AppDbContext db)
            {
                public void Start() => supervisor.Run((sp, ct) => sp.GetRequiredService<AppDbContext>().SaveChangesAsync(ct));
            }
            """ + Types;
        await VerifyCS.CodeFixAsync(source, [VerifyCS.Diagnostic().WithLocation(0).WithArguments("db")], fixedSource);
    }

    [Fact]
    public async Task Minimal_api_from_services_parameter_is_reported()
    {
        const string source = """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Mvc;
            using TaskSupervision;

            static class Program
            {
                static void Map(string pattern, Delegate handler) { }

                static void Main()
                {
                    Map("/mail", ([FromServices] IEmailSender sender, [FromServices] ITaskSupervisor supervisor, string to) =>
                        supervisor.Run(ct => {|#0:sender|}.SendAsync(to, ct)));
                    Map("/count", ([FromServices] AppDbContext db, [FromServices] ITaskSupervisor supervisor) =>
                        supervisor.Run(ct => Task.FromResult({|#1:db|}.GetHashCode())));
                }
            }
            """ + Types;
        await VerifyCS.AnalyzerAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("sender"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("db"));
    }

    [Fact]
    public async Task No_fix_for_generic_run()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Jobs(ITaskSupervisor supervisor, AppDbContext db)
            {
                public void Start() => supervisor.Run(ct => {|#0:db|}.SaveChangesAsync(ct));
            }
            """ + Types;
        await VerifyCS.NoCodeFixAsync(source, VerifyCS.Diagnostic().WithLocation(0).WithArguments("db"));
    }

    [Fact]
    public async Task Http_state_is_reported_without_fix()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Http;
            using Microsoft.AspNetCore.Mvc;
            using TaskSupervision;

            class HomeController(ITaskSupervisor supervisor) : ControllerBase
            {
                public void Index(HttpContext context)
                {
                    supervisor.Run(ct => Log({|#0:HttpContext|}.Request.Path));
                    Task.Run(() => Log({|#1:Request|}.Path));
                    Task.Run(() => {|#2:context|}.Response.StatusCode = 500);
                    var response = context.Response;
                    Task.Factory.StartNew(() => {|#3:response|}.StatusCode = 200);
                }

                private static Task Log(string path) => Task.CompletedTask;
            }
            """ + Types;
        await VerifyCS.NoCodeFixAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("HttpContext"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("Request"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("context"),
            VerifyCS.Diagnostic().WithLocation(3).WithArguments("response"));
    }

    [Fact]
    public async Task Db_context_in_task_run_is_reported_without_fix()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;

            class Jobs(AppDbContext db)
            {
                public void Start() => Task.Run(() => {|#0:db|}.SaveChangesAsync());
            }
            """ + Types;
        await VerifyCS.NoCodeFixAsync(source, VerifyCS.Diagnostic().WithLocation(0).WithArguments("db"));
    }

    [Fact]
    public async Task Values_copied_out_and_scoped_work_are_not_reported()
    {
        const string source = """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Http;
            using Microsoft.Extensions.DependencyInjection;
            using TaskSupervision;

            class Handlers(ITaskSupervisor supervisor, AppDbContext db)
            {
                public async Task Handle(HttpContext context, IEmailSender sender)
                {
                    var path = context.Request.Path;
                    supervisor.Run(ct => Log(path));
                    supervisor.Run((services, ct) => services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct));
                    supervisor.Run(ct => sender.SendAsync(path, ct));
                    await db.SaveChangesAsync();
                    Func<Task> notBackground = () => db.SaveChangesAsync();
                    await notBackground();
                    supervisor.Run(ct =>
                    {
                        Func<HttpContext, string> read = c => c.Request.Path;
                        return Task.CompletedTask;
                    });
                }

                private static Task Log(string path) => Task.CompletedTask;
            }
            """ + Types;
        await VerifyCS.AnalyzerAsync(source);
    }

    [Fact]
    public async Task Known_singletons_from_services_are_not_reported_but_scoped_services_are()
    {
        const string source = """
            using System;
            using System.Net.Http;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Mvc;
            using Microsoft.Extensions.Configuration;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;
            using Microsoft.Extensions.Logging;
            using Microsoft.Extensions.Options;
            using TaskSupervision;

            class MailOptions { }

            class Endpoints
            {
                public static void Handle(
                    [FromServices] ITaskSupervisor supervisor,
                    [FromServices] IServiceScopeFactory scopes,
                    [FromServices] ILogger<Endpoints> logger,
                    [FromServices] ILoggerFactory loggers,
                    [FromServices] IHttpClientFactory clients,
                    [FromServices] IOptions<MailOptions> options,
                    [FromServices] IConfiguration configuration,
                    [FromServices] IHostApplicationLifetime lifetime,
                    [FromServices] IEmailSender sender)
                {
                    supervisor.Run(async ct =>
                    {
                        using var scope = scopes.CreateScope();
                        _ = logger.GetHashCode() + loggers.GetHashCode() + options.Value.GetHashCode();
                        _ = clients.CreateClient("mail");
                        _ = configuration["Mail:From"];
                        _ = lifetime.ApplicationStopping;
                        await scope.ServiceProvider.GetRequiredService<IEmailSender>().SendAsync("a", ct);
                        await {|#0:sender|}.SendAsync("b", ct);
                    });
                }
            }
            """ + Types;
        await VerifyCS.AnalyzerAsync(source, VerifyCS.Diagnostic().WithLocation(0).WithArguments("sender"));
    }

    [Fact]
    public async Task A_project_names_its_own_singletons_in_editorconfig()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Mvc;
            using TaskSupervision;

            namespace MyApp
            {
                interface IClock { }
                interface ICache<T> { }

                class Endpoints
                {
                    public static void Handle([FromServices] ITaskSupervisor supervisor, [FromServices] IClock clock,
                        [FromServices] ICache<string> cache, [FromServices] IEmailSender sender)
                    {
                        supervisor.Run(ct => Task.FromResult(clock.GetHashCode() + cache.GetHashCode() + {|#0:sender|}.GetHashCode()));
                    }
                }
            }
            """ + Types;
        await VerifyCS.AnalyzerWithConfigAsync(
            source,
            "dotnet_code_quality.TS0004.singleton_types = MyApp.IClock, MyApp.ICache",
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("sender"));
    }

    [Fact]
    public async Task Work_awaited_or_blocked_on_at_once_is_not_reported_but_stored_or_combined_work_is()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;

            class Orders(AppDbContext db)
            {
                public async Task<int> SaveAsync()
                {
                    await Task.Run(() => db.SaveChangesAsync());
                    await Task.Run(() => db.SaveChangesAsync()).ConfigureAwait(false);
                    Task.Run(() => db.SaveChangesAsync()).Wait();
                    _ = Task.Run(() => db.SaveChangesAsync()).Result;
                    Task.Run(() => db.SaveChangesAsync()).GetAwaiter().GetResult();
                    var stored = Task.Run(() => {|#0:db|}.SaveChangesAsync());
                    await Task.WhenAll(Task.Run(() => {|#1:db|}.SaveChangesAsync()), Task.Run(() => {|#2:db|}.SaveChangesAsync()));
                    return await stored;
                }
            }
            """ + Types;
        await VerifyCS.AnalyzerAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("db"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("db"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("db"));
    }

    [Fact]
    public async Task Accessor_http_context_thread_pool_threads_and_method_groups_are_reported()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Http;
            using Microsoft.AspNetCore.Mvc;
            using Microsoft.Extensions.DependencyInjection;
            using TaskSupervision;

            class AuditController(ITaskSupervisor supervisor, IHttpContextAccessor accessor, AppDbContext db) : ControllerBase
            {
                public void Audit()
                {
                    Task.Run(() => {|#0:accessor.HttpContext|}?.Request.Path);
                    supervisor.Run((services, ct) =>
                        Task.FromResult({|#1:services.GetRequiredService<IHttpContextAccessor>().HttpContext|}!.Request.Path));
                    ThreadPool.QueueUserWorkItem(_ => {|#2:db|}.Dispose());
                    new Thread(() => {|#3:Request|}.Path.ToString()).Start();
                    supervisor.Run({|#4:db|}.SaveChangesAsync);
                    Task.Run({|#5:HttpContext|}.Response.CompleteAsync);
                    new Thread({|#6:db|}.Dispose).Start();
                }
            }
            """ + Types;
        await VerifyCS.AnalyzerAsync(
            source,
            VerifyCS.Diagnostic().WithLocation(0).WithArguments("accessor.HttpContext"),
            VerifyCS.Diagnostic().WithLocation(1).WithArguments("IHttpContextAccessor.HttpContext"),
            VerifyCS.Diagnostic().WithLocation(2).WithArguments("db"),
            VerifyCS.Diagnostic().WithLocation(3).WithArguments("Request"),
            VerifyCS.Diagnostic().WithLocation(4).WithArguments("db"),
            VerifyCS.Diagnostic().WithLocation(5).WithArguments("HttpContext"),
            VerifyCS.Diagnostic().WithLocation(6).WithArguments("db"));
    }

    [Fact]
    public async Task Fix_all_resolves_every_lambda_from_its_own_scope()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;

            class Jobs(ITaskSupervisor supervisor, AppDbContext db)
            {
                public void Start()
                {
                    supervisor.Run(async ct =>
                    {
                        await {|#0:db|}.SaveChangesAsync(ct);
                        await db.SaveChangesAsync(ct);
                    });
                    supervisor.Run(async ct => { await {|#1:db|}.SaveChangesAsync(ct); });
                }
            }
            """ + Types;
        const string fixedSource = """
            using System.Threading;
            using System.Threading.Tasks;
            using TaskSupervision;
            using Microsoft.Extensions.DependencyInjection;

            class Jobs(ITaskSupervisor supervisor, AppDbContext db)
            {
                public void Start()
                {
                    supervisor.Run(async (services, ct) =>
                    {
                        await services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct);
                        await services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct);
                    });
                    supervisor.Run(async (services, ct) => { await services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct); });
                }
            }
            """ + Types;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("db"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("db"),
            ],
            fixedSource);
    }
}
