using System.Diagnostics;
using Microsoft.Playwright;

namespace TaskSupervision.AspNetCore.Tests.Browser;

/// <summary>
/// Real headless Chromium from the Debian package, driven by Playwright for .NET. Playwright's own browser download is
/// never used (it cannot be reached here): the fixture installs the <c>chromium</c> package if it is missing, through
/// <c>.ci/ensure-packages</c>, and launches <c>/usr/bin/chromium</c>. The Playwright driver and the Node.js runtime it
/// needs ship inside the Microsoft.Playwright package, so nothing else is fetched.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    // Starting the Playwright driver (a Node.js process) or Chromium can take well over the usual 30 s bound when the
    // machine is loaded (CI runs every test project at once on 2 cores): these starts get a longer bound of their own.
    private static readonly TimeSpan StartBound = TimeSpan.FromMinutes(3);

    private IPlaywright? _playwright;

    public async Task InitializeAsync()
    {
        await EnsurePackagesAsync("chromium");
        File.Exists(ChromiumPath).Should().BeTrue("ensure-packages installs Debian's chromium");
        _playwright = await Playwright.CreateAsync().WaitAsync(StartBound);
        Assertions.SetDefaultExpectTimeout((float)TestExtensions.Bound.TotalMilliseconds);
    }

    public Task DisposeAsync()
    {
        _playwright?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Launches Chromium with a fresh profile (its own <c>--user-data-dir</c>, deleted afterwards) for one test, signed in
    /// to <paramref name="app"/> as <paramref name="user"/> through the test authentication header.
    /// </summary>
    internal async Task<BrowserSession> OpenAsync(DashboardApp app, string? user, bool cutOffNetwork = false)
    {
        DirectoryInfo profile = Directory.CreateTempSubdirectory("task-supervisor-chromium-");
        BrowserTypeLaunchPersistentContextOptions options = new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Locale = "en-US",
            TimezoneId = "UTC",
            ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
            ServiceWorkers = ServiceWorkerPolicy.Block,
        };
        if (user is not null)
        {
            options.ExtraHTTPHeaders = new Dictionary<string, string> { [DashboardApp.UserHeader] = user };
        }

        options.Timeout = (float)StartBound.TotalMilliseconds;
        IBrowserContext context = await _playwright!.Chromium.LaunchPersistentContextAsync(profile.FullName, options).WaitAsync(StartBound);
        context.SetDefaultTimeout((float)TestExtensions.Bound.TotalMilliseconds * 2);
        context.SetDefaultNavigationTimeout((float)TestExtensions.Bound.TotalMilliseconds * 2);
        BrowserSession session = new(context, profile, app.BaseAddress);
        if (cutOffNetwork)
        {
            await session.CutOffEverythingButTheAppAsync();
        }

        return session;
    }

    private static async Task EnsurePackagesAsync(params string[] packages)
    {
        string script = Path.Combine(RepositoryRoot(), ".ci", "ensure-packages");
        ProcessStartInfo start = new("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        foreach (string package in packages)
        {
            start.ArgumentList.Add(package);
        }

        using Process process = Process.Start(start)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        Task<string> output = process.StandardOutput.ReadToEndAsync();

        // An install can take minutes on a fresh machine; a hang still fails the test run.
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        process.ExitCode.Should().Be(0, "ensure-packages should install {0}: {1}{2}", string.Join(' ', packages), await output, await errors);
    }

    internal static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, ".ci", "ensure-packages")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with .ci/ensure-packages) was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>One Chromium with its own profile and one page; records every request the page makes.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly DirectoryInfo _profile;
    private readonly Uri _app;
    private readonly List<string> _requested = [];
    private readonly List<string> _blocked = [];
    private readonly List<string> _dialogs = [];
    private IPage? _page;

    internal BrowserSession(IBrowserContext context, DirectoryInfo profile, Uri app)
    {
        _context = context;
        _profile = profile;
        _app = app;
        _context.Request += (_, request) => { lock (_requested) { _requested.Add(request.Url); } };
    }

    public IPage Page => _page ?? throw new InvalidOperationException("Call GotoAsync first.");

    /// <summary>Every URL the browser requested, in order.</summary>
    public IReadOnlyList<string> Requested { get { lock (_requested) { return [.. _requested]; } } }

    /// <summary>Every request to anywhere but the app, refused by <see cref="CutOffEverythingButTheAppAsync"/>.</summary>
    public IReadOnlyList<string> Blocked { get { lock (_blocked) { return [.. _blocked]; } } }

    /// <summary>Every JavaScript dialog (alert, confirm, prompt) the page opened.</summary>
    public IReadOnlyList<string> Dialogs { get { lock (_dialogs) { return [.. _dialogs]; } } }

    public string AppOrigin => _app.GetLeftPart(UriPartial.Authority);

    public async Task CutOffEverythingButTheAppAsync() =>
        await _context.RouteAsync("**/*", async route =>
        {
            string url = route.Request.Url;
            if (url.StartsWith(AppOrigin + "/", StringComparison.Ordinal))
            {
                await route.ContinueAsync();
                return;
            }

            lock (_blocked)
            {
                _blocked.Add(url);
            }

            await route.AbortAsync("internetdisconnected");
        }).Within();

    public async Task<IPage> GotoAsync(Uri address)
    {
        _page = _context.Pages.Count > 0 ? _context.Pages[0] : await _context.NewPageAsync().Within();
        _page.Dialog += async (_, dialog) =>
        {
            lock (_dialogs)
            {
                _dialogs.Add(dialog.Type + ": " + dialog.Message);
            }

            await dialog.DismissAsync();
        };
        IResponse? response = await _page.GotoAsync(address.ToString()).WaitAsync(TestExtensions.Bound * 3);
        response!.Status.Should().Be(200);
        return _page;
    }

    public async ValueTask DisposeAsync()
    {
        await _context.CloseAsync().Within();
        await _context.DisposeAsync();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be writing its last profile files as it exits; a temp folder left behind is harmless.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "Chromium";
}
