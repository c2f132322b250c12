using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace TaskSupervision.AspNetCore.Tests.Browser;

/// <summary>The dashboard page in real headless Chromium, against a real app on loopback.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class DashboardPageTests(ChromiumFixture chromium)
{
    private const string Ops = "ops-alice";
    private const string Viewer = "viewer-bob";

    [Fact]
    public async Task Page_ListsTasksStartedThroughTheApi()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run("report:2026-11", _ => gate.Task, new TaskOptions { Name = "monthly-report" });
        app.Supervisor.Run("monitor:eu-west", _ => gate.Task, new TaskOptions { Name = "monitor" });
        await using BrowserSession browser = await chromium.OpenAsync(app, Viewer);

        IPage page = await browser.GotoAsync(app.Dashboard);

        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");
        await Expect(Row(page, "report:2026-11")).ToContainTextAsync("monthly-report");
        await Expect(Row(page, "report:2026-11")).ToContainTextAsync("Running");
        await Expect(Row(page, "monitor:eu-west")).ToBeVisibleAsync();
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("1–2 of 2");
        await Expect(page.Locator(".card[data-supervisor='default']")).ToContainTextAsync("Running2");
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Page_TaskStartedAfterLoad_AppearsWithoutReload()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run("early", _ => gate.Task);
        await using BrowserSession browser = await chromium.OpenAsync(app, Viewer);
        IPage page = await browser.GotoAsync(app.Dashboard);
        await Expect(Row(page, "early")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => { window.__loadedOnce = true; }");

        app.Supervisor.Run("late", _ => gate.Task);

        // A bounded wait for the next live update (every 100 ms here): no reload, no polling from the test.
        await Expect(Row(page, "late")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        (await page.EvaluateAsync<bool>("() => window.__loadedOnce === true")).Should().BeTrue("the page was not reloaded");
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task CancelControl_ActionsOff_IsAbsentEvenForAnOpsUser()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run("victim", _ => gate.Task);
        await using BrowserSession browser = await chromium.OpenAsync(app, Ops);

        IPage page = await browser.GotoAsync(app.Dashboard);

        await Expect(Row(page, "victim")).ToBeVisibleAsync();
        await Expect(page.Locator("button.cancel")).ToHaveCountAsync(0);
        await Expect(page.Locator("#prefix-cancel")).ToBeHiddenAsync();
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task CancelControl_UserFailingThePolicy_IsAbsent()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run("victim", _ => gate.Task);
        await using BrowserSession browser = await chromium.OpenAsync(app, Viewer);

        IPage page = await browser.GotoAsync(app.Dashboard);

        await Expect(Row(page, "victim")).ToBeVisibleAsync();
        await Expect(page.Locator("button.cancel")).ToHaveCountAsync(0);
        await Expect(page.Locator("#prefix-cancel")).ToBeHiddenAsync();
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Cancel_UserPassingThePolicy_CancelsTheTask_WhichEndsCanceled()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        SupervisedTask runaway = app.Supervisor.Run("runaway:1", ct => Task.Delay(Timeout.Infinite, ct));
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask bystander = app.Supervisor.Run("bystander", _ => gate.Task);
        await using BrowserSession browser = await chromium.OpenAsync(app, Ops);
        IPage page = await browser.GotoAsync(app.Dashboard);
        ILocator cancel = Row(page, "runaway:1").Locator("button.cancel");

        await cancel.ClickAsync();
        await Expect(Row(page, "runaway:1").Locator("button.cancel")).ToHaveTextAsync("Confirm cancel");
        await Row(page, "runaway:1").Locator("button.cancel").ClickAsync();

        await Expect(page.Locator("#action-result")).ToHaveTextAsync("Cancel runaway:1: Canceled");
        // The cancel answered Canceled, so the task has ended and run its cleanup and callbacks.
        runaway.Status.Should().Be(SupervisedTaskStatus.Canceled);
        bystander.Status.Should().Be(SupervisedTaskStatus.Running);
        await Expect(Row(page, "runaway:1")).ToHaveCountAsync(0);
        browser.Dialogs.Should().BeEmpty();
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task CancelByPrefix_UserPassingThePolicy_CancelsEveryTaskUnderIt()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        SupervisedTask[] imports = [.. Enumerable.Range(0, 3).Select(i => app.Supervisor.Run($"import:{i}", ct => Task.Delay(Timeout.Infinite, ct)))];
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask export = app.Supervisor.Run("export:0", _ => gate.Task);
        await using BrowserSession browser = await chromium.OpenAsync(app, Ops);
        IPage page = await browser.GotoAsync(app.Dashboard);
        await Expect(page.Locator("#prefix-cancel")).ToBeVisibleAsync();

        await page.Locator("#cancel-prefix-input").FillAsync("import:");
        await page.Locator("#cancel-prefix-button").ClickAsync();
        await page.Locator("#cancel-prefix-button").ClickAsync();

        await Expect(page.Locator("#action-result")).ToContainTextAsync("3 matched, 3 canceled");
        imports.Should().OnlyContain(t => t.Status == SupervisedTaskStatus.Canceled);
        export.Status.Should().Be(SupervisedTaskStatus.Running);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task ScriptLikeTexts_RenderAsText_AndNoDialogOpens()
    {
        const string key = "<img src=x onerror=alert(1)>";
        const string name = "<b onmouseover=alert(2)>bold</b>";
        const string message = "<script>alert(3)</script>";
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run(key, _ => gate.Task, new TaskOptions { Name = name });
        app.Supervisor.Run("<svg onload=alert(4)>", _ => throw new InvalidOperationException(message));
        await using BrowserSession browser = await chromium.OpenAsync(app, Viewer);

        IPage page = await browser.GotoAsync(app.Dashboard);

        await Expect(page.Locator("#tasks-body td.key").First).ToHaveTextAsync(key);
        await Expect(page.Locator("#tasks-body td.name").First).ToHaveTextAsync(name);
        await Expect(page.Locator("#failures .message")).ToHaveTextAsync("System.InvalidOperationException: " + message);
        await Expect(page.Locator("#failures")).ToContainTextAsync("key <svg onload=alert(4)>");
        await Expect(page.Locator("main img")).ToHaveCountAsync(0);
        await Expect(page.Locator("main b, main svg, main script")).ToHaveCountAsync(0);
        browser.Dialogs.Should().BeEmpty();
        browser.Requested.Should().NotContain(url => url.EndsWith("/x", StringComparison.Ordinal), "no <img src=x> was ever created");
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task PagingAndFiltering_With100000Tasks()
    {
        const int total = 100_000;
        await using DashboardApp app = await DashboardApp.StartAsync(services: s => s.AddTaskSupervisor(o => o.MaxConcurrency = 1_000));
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < total; i++)
        {
            app.Supervisor.Run($"job:{i:D6}", _ => gate.Task);
        }

        app.Supervisor.Count.Should().Be(total);
        await using BrowserSession browser = await chromium.OpenAsync(app, Viewer);
        IPage page = await browser.GotoAsync(app.Dashboard);

        await Expect(page.Locator("#page-info")).ToHaveTextAsync("1–50 of 100,000");
        await Expect(page.Locator("#tasks-body tr")).ToHaveCountAsync(50);
        await Expect(page.Locator("#tasks-body td.key").First).ToHaveTextAsync("job:000000");

        await page.Locator("#page-next").ClickAsync();
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("51–100 of 100,000");
        await Expect(page.Locator("#tasks-body td.key").First).ToHaveTextAsync("job:000050");

        await page.Locator("#filter-order").SelectOptionAsync("newest");
        await Expect(page.Locator("#tasks-body td.key").First).ToHaveTextAsync("job:099999");

        await page.Locator("#filter-status").SelectOptionAsync("Running");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("1–50 of 1,000");
        await Expect(page.Locator("#tasks-body .status").First).ToHaveTextAsync("Running");

        await page.Locator("#filter-status").SelectOptionAsync("Pending");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("1–50 of 99,000");

        await page.Locator("#filter-status").SelectOptionAsync("");
        await page.Locator("#filter-prefix").FillAsync("job:09999");
        await Expect(page.Locator("#page-info")).ToHaveTextAsync("1–10 of 10");
        await Expect(page.Locator("#tasks-body tr")).ToHaveCountAsync(10);
        await Expect(page.Locator("#page-next")).ToBeDisabledAsync();

        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Page_WorksWithTheNetworkCutOffFromEverythingButTheApp()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run("offline:1", _ => gate.Task);
        await using BrowserSession browser = await chromium.OpenAsync(app, Viewer, cutOffNetwork: true);

        IPage page = await browser.GotoAsync(app.Dashboard);

        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");
        await Expect(Row(page, "offline:1")).ToBeVisibleAsync();
        app.Supervisor.Run("offline:2", _ => gate.Task);
        await Expect(Row(page, "offline:2")).ToBeVisibleAsync();
        (await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('header.top')).backgroundColor"))
            .Should().Be("rgb(29, 35, 48)", "the embedded stylesheet was applied");
        browser.Blocked.Should().BeEmpty("the page asks nothing of any other server");
        browser.Requested.Should().NotBeEmpty().And.OnlyContain(url => url.StartsWith(browser.AppOrigin + "/tasks/", StringComparison.Ordinal));
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Page_StreamDrops_SaysSo_AndReconnectsWhenTheServerIsBack()
    {
        DashboardApp first = await DashboardApp.StartAsync();
        int port = first.BaseAddress.Port;
        await using BrowserSession browser = await chromium.OpenAsync(first, Viewer);
        IPage page = await browser.GotoAsync(first.Dashboard);
        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");

        await first.DisposeAsync();

        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "disconnected");
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Disconnected — reconnecting…");

        await using DashboardApp second = await DashboardApp.StartAsync(port: port);
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        second.Supervisor.Run("after-restart", _ => gate.Task);
        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");
        await Expect(Row(page, "after-restart")).ToBeVisibleAsync();
        gate.SetResult();
        await second.Supervisor.WhenIdleAsync().Within();
    }

    private static ILocator Row(IPage page, string key) =>
        page.Locator("#tasks-body tr").Filter(new() { Has = page.Locator("td.key", new() { HasTextRegex = new Regex("^" + Regex.Escape(key) + "$") }) });

    private static void EnableCancel(TaskSupervisorDashboardOptions o)
    {
        o.EnableCancel = true;
        o.CancelPolicy = DashboardApp.CancelPolicy;
    }
}
