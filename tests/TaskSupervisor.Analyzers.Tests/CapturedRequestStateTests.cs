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
                        await {|#1:this._db|}.SaveChangesAsync(ct);
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
                        await services.GetRequiredService<AppDbContext>().SaveChangesAsync(ct);
                    });
                }
            }
            """ + Types;
        await VerifyCS.CodeFixAsync(
            source,
            [
                VerifyCS.Diagnostic().WithLocation(0).WithArguments("_db"),
                VerifyCS.Diagnostic().WithLocation(1).WithArguments("this._db"),
            ],
            fixedSource,
            iterations: 1);
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
}
