using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace TaskSupervision.AspNetCore.Tests.Browser;

/// <summary>
/// Takes the README's screenshot of a dashboard at work: two supervisors, running and queued tasks, a task that restarted
/// after failures, and recent failures. Saved beside the test binaries as <c>screenshots/dashboard.png</c>; with
/// <c>TASKSUPERVISOR_UPDATE_DOCS=1</c> also as <c>docs/dashboard.png</c> in the repository.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ScreenshotTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task Screenshot_OfADashboardAtWork()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(
            o =>
            {
                o.EnableCancel = true;
                o.CancelPolicy = DashboardApp.CancelPolicy;
            },
            services: s => s.AddTaskSupervisor("emails", o => { o.MaxConcurrency = 2; o.MaxPending = 500; }));
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        ITaskSupervisor main = app.Supervisor;
        ITaskSupervisor emails = app.Named("emails");

        for (int i = 0; i < 4; i++)
        {
            main.Run($"monitor:session-{4711 + i}", _ => gate.Task, new TaskOptions { Name = "session-monitor" });
        }

        main.Run("report:2026-11", _ => gate.Task, new TaskOptions { Name = "monthly-report" });
        main.Run("import:tenant-42", _ => gate.Task, new TaskOptions { Name = "csv-import" });
        int attempts = 0;
        SupervisedTask flaky = main.Run(
            "sync:crm",
            _ => Interlocked.Increment(ref attempts) <= 2 ? throw new TimeoutException("CRM API did not answer within 30 s") : gate.Task,
            new TaskOptions { Name = "crm-sync", Restart = new RestartPolicy { Mode = RestartMode.OnFailure, InitialDelay = TimeSpan.FromMilliseconds(20), Jitter = 0 } });
        main.Run("email:bob@", _ => throw new FormatException("The address 'bob@' has no domain."), new TaskOptions { Name = "welcome-email" });
        main.Run("thumbnail:8812", _ => throw new IOException("Disk quota exceeded while writing /var/thumbs/8812.webp"), new TaskOptions { Name = "thumbnail" });
        main.Run("cleanup:tmp", _ => Task.CompletedTask, new TaskOptions { Name = "cleanup" });
        main.Run("cleanup:cache", ct => Task.Delay(Timeout.Infinite, ct)).Cancel();
        for (int i = 0; i < 12; i++)
        {
            emails.Run($"email:newsletter-{i:D3}", _ => gate.Task, new TaskOptions { Name = "newsletter" });
        }

        await using BrowserSession browser = await chromium.OpenAsync(app, "ops-alice", cutOffNetwork: true);
        IPage page = await browser.GotoAsync(app.Dashboard);
        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");
        // Restarted attempts are not ends: the ring holds the two tasks that ended failed.
        await Expect(page.Locator("#failures li")).ToHaveCountAsync(2);
        await Expect(page.Locator("#tasks-body tr[data-key='sync:crm'] td.num").Nth(1)).ToHaveTextAsync("2");
        await Expect(page.Locator(".card[data-supervisor='emails']")).ToContainTextAsync("Pending10 / 500");
        await Expect(page.Locator("#tasks-body button.cancel")).ToHaveCountAsync(7);

        string folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Animations = ScreenshotAnimations.Disabled }).Within();

        new FileInfo(path).Length.Should().BeGreaterThan(10_000);
        if (Environment.GetEnvironmentVariable("TASKSUPERVISOR_UPDATE_DOCS") == "1")
        {
            File.Copy(path, Path.Combine(ChromiumFixture.RepositoryRoot(), "docs", "dashboard.png"), overwrite: true);
        }

        flaky.RestartCount.Should().Be(2);
        browser.Blocked.Should().BeEmpty();
        gate.SetResult();
        await main.WhenIdleAsync().Within();
        await emails.WhenIdleAsync().Within();
    }
}
