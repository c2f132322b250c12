using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TaskSupervision.AspNetCore.Tests;

/// <summary>
/// A real ASP.NET Core app on a free loopback port with the dashboard mapped at <c>/tasks</c> behind the app's own
/// policies. Users come from a tiny authentication handler: the <c>X-Test-User</c> header names the user, and users whose
/// name starts with "ops-" hold the "ops" role. That is the application's side of authorization, not a mock of the browser.
/// </summary>
internal sealed class DashboardApp : IAsyncDisposable
{
    public const string UserHeader = "X-Test-User";
    public const string ViewPolicy = "dashboard-view";
    public const string CancelPolicy = "dashboard-cancel";

    private readonly WebApplication _app;

    private DashboardApp(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The app's root, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The dashboard page's address.</summary>
    public Uri Dashboard => new(BaseAddress, "tasks/");

    public IServiceProvider Services => _app.Services;

    public ITaskSupervisor Supervisor => _app.Services.GetRequiredService<ITaskSupervisor>();

    public ITaskSupervisor Named(string name) => _app.Services.GetRequiredKeyedService<ITaskSupervisor>(name);

    public static async Task<DashboardApp> StartAsync(
        Action<TaskSupervision.AspNetCore.TaskSupervisorDashboardOptions>? dashboard = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null,
        int port = 0)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, port));
        builder.Services.AddAuthentication(TestAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TestAuthenticationHandler>(TestAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ViewPolicy, p => p.RequireAuthenticatedUser())
            .AddPolicy(CancelPolicy, p => p.RequireRole("ops"));
        builder.Services.AddTaskSupervisor();
        builder.Services.AddTaskSupervisorDashboard(o =>
        {
            // Fast updates keep the live tests short; every wait on them is still bounded.
            o.UpdateInterval = TimeSpan.FromMilliseconds(100);
            dashboard?.Invoke(o);
        });
        services?.Invoke(builder.Services);

        WebApplication app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        if (map is null)
        {
            app.MapTaskSupervisorDashboard("/tasks").RequireAuthorization(ViewPolicy);
        }
        else
        {
            map(app);
        }

        await app.StartAsync().Within();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardApp(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>An HTTP client of the app, signed in as <paramref name="user"/> (or anonymous).</summary>
    public HttpClient Client(string? user)
    {
        HttpClient client = new(new SocketsHttpHandler { UseCookies = true, CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = BaseAddress };
        if (user is not null)
        {
            client.DefaultRequestHeaders.Add(UserHeader, user);
        }

        return client;
    }

    public async Task StopAsync() => await _app.StopAsync().Within();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().Within();
        await _app.DisposeAsync();
    }
}

/// <summary>Signs in the user named by the <c>X-Test-User</c> header; "ops-..." users hold the "ops" role.</summary>
internal sealed class TestAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? user = Request.Headers[DashboardApp.UserHeader];
        if (string.IsNullOrEmpty(user))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        List<Claim> claims = [new(ClaimTypes.Name, user), new(ClaimTypes.NameIdentifier, user)];
        if (user.StartsWith("ops-", StringComparison.Ordinal))
        {
            claims.Add(new Claim(ClaimTypes.Role, "ops"));
        }

        ClaimsPrincipal principal = new(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
