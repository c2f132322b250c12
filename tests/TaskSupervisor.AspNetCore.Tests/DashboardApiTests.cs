using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace TaskSupervision.AspNetCore.Tests;

/// <summary>The JSON API, the event stream and the security model, over real HTTP against a real Kestrel on loopback.</summary>
public sealed class DashboardApiTests
{
    private const string Ops = "ops-alice";
    private const string Viewer = "viewer-bob";

    [Theory]
    [InlineData("tasks/")]
    [InlineData("tasks/assets/dashboard.js")]
    [InlineData("tasks/assets/dashboard.css")]
    [InlineData("tasks/api/session")]
    [InlineData("tasks/api/supervisors")]
    [InlineData("tasks/api/tasks")]
    [InlineData("tasks/api/failures")]
    [InlineData("tasks/api/events")]
    public async Task EveryEndpoint_AnonymousUser_IsRefusedByThePolicyAppliedToTheReturnedBuilder(string path)
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient anonymous = app.Client(user: null);

        using HttpResponseMessage response = await anonymous.GetAsync(path).Within();

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("tasks/")]
    [InlineData("tasks/assets/dashboard.js")]
    [InlineData("tasks/api/session")]
    [InlineData("tasks/api/supervisors")]
    [InlineData("tasks/api/tasks")]
    [InlineData("tasks/api/failures")]
    public async Task EveryEndpoint_SendsAStrictContentSecurityPolicy(string path)
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = app.Client(Viewer);

        using HttpResponseMessage response = await client.GetAsync(path).Within();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        string csp = response.Headers.GetValues("Content-Security-Policy").Single();
        csp.Should().Contain("default-src 'none'").And.Contain("script-src 'self'").And.Contain("frame-ancestors 'none'");
        csp.Should().NotContain("unsafe-inline").And.NotContain("unsafe-eval").And.NotContain("http");
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
    }

    [Fact]
    public async Task Page_HasNoInlineScriptAndNoExternalReference()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = app.Client(Viewer);

        string html = await client.GetStringAsync("tasks/").Within();
        string script = await client.GetStringAsync("tasks/assets/dashboard.js").Within();

        html.Should().Contain("<script src=\"assets/dashboard.js\" defer></script>");
        html.Split("<script").Should().HaveCount(2, "the page has exactly one script element, and it has a src");
        html.Should().NotContain("style=").And.NotContain("onclick").And.NotContain("//");
        script.Should().NotContain("innerHTML").And.NotContain("insertAdjacentHTML").And.NotContain("eval(").And.NotContain("http");
    }

    [Fact]
    public async Task Page_WithoutTrailingSlash_RedirectsUnderThePrefix()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };
        client.DefaultRequestHeaders.Add(DashboardApp.UserHeader, Viewer);

        using HttpResponseMessage response = await client.GetAsync("tasks").Within();

        response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().Should().Be("/tasks/");
    }

    [Fact]
    public async Task Tasks_FilteredByStatusAndKeyPrefix_PagedNewestFirst_StatusesAsNames()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < 30; i++)
        {
            app.Supervisor.Run($"import:{i:D3}", _ => gate.Task);
        }

        app.Supervisor.Run("export:1", _ => gate.Task);
        using HttpClient client = app.Client(Viewer);

        using JsonDocument page = JsonDocument.Parse(await client.GetStringAsync("tasks/api/tasks?keyPrefix=import:&skip=5&take=10&order=newest").Within());

        JsonElement root = page.RootElement;
        root.GetProperty("supervisor").GetString().Should().Be("default");
        root.GetProperty("total").GetInt32().Should().Be(30);
        root.GetProperty("skip").GetInt32().Should().Be(5);
        JsonElement[] items = [.. root.GetProperty("items").EnumerateArray()];
        items.Select(i => i.GetProperty("key").GetString()).Should().Equal(Enumerable.Range(15, 10).Reverse().Select(i => $"import:{i:D3}"));
        items.Select(i => i.GetProperty("status").ValueKind).Should().AllBeEquivalentTo(JsonValueKind.String);
        items.Select(i => i.GetProperty("status").GetString()).Should().OnlyContain(s => s == "Running" || s == "Pending");
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Tasks_TakeAboveTheMaximum_IsCutToIt()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(o => { o.MaxPageSize = 7; o.DefaultPageSize = 5; });
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < 20; i++)
        {
            app.Supervisor.Run($"k{i}", _ => gate.Task);
        }

        using HttpClient client = app.Client(Viewer);
        using JsonDocument page = JsonDocument.Parse(await client.GetStringAsync("tasks/api/tasks?take=1000").Within());

        page.RootElement.GetProperty("take").GetInt32().Should().Be(7);
        page.RootElement.GetProperty("items").GetArrayLength().Should().Be(7);
        page.RootElement.GetProperty("total").GetInt32().Should().Be(20);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Theory]
    [InlineData("status=1")]
    [InlineData("status=Sleeping")]
    [InlineData("skip=-1")]
    [InlineData("take=0")]
    [InlineData("order=random")]
    public async Task Tasks_BadQuery_IsBadRequest(string query)
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = app.Client(Viewer);

        using HttpResponseMessage response = await client.GetAsync("tasks/api/tasks?" + query).Within();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Tasks_UnknownSupervisor_IsNotFound()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = app.Client(Viewer);

        using HttpResponseMessage response = await client.GetAsync("tasks/api/tasks?supervisor=nope").Within();

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Supervisors_ListsDefaultAndNamed_WithRecentOutcomesAndLimits()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(services: s => s.AddTaskSupervisor("emails", o => { o.MaxConcurrency = 2; o.MaxPending = 10; }));
        app.Named("emails").Run(_ => Task.CompletedTask);
        app.Named("emails").Run(_ => throw new InvalidOperationException("smtp down"));
        await app.Named("emails").WhenIdleAsync().Within();
        using HttpClient client = app.Client(Viewer);

        using JsonDocument summaries = JsonDocument.Parse(await client.GetStringAsync("tasks/api/supervisors").Within());

        JsonElement[] all = [.. summaries.RootElement.EnumerateArray()];
        all.Select(s => s.GetProperty("name").GetString()).Should().Equal("default", "emails");
        JsonElement emails = all[1];
        emails.GetProperty("maxConcurrency").GetInt32().Should().Be(2);
        emails.GetProperty("maxPending").GetInt32().Should().Be(10);
        emails.GetProperty("recent").GetProperty("completed").GetInt64().Should().Be(1);
        emails.GetProperty("recent").GetProperty("faulted").GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task Supervisors_AfterADrain_ShowTheLastDrainReportAndDraining()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(services: s => s.AddTaskSupervisor("imports"));
        ITaskSupervisor imports = app.Named("imports");
        imports.Run("import:1", ct => Task.Delay(Timeout.Infinite, ct));
        await imports.DrainAsync(TimeSpan.FromSeconds(10)).Within();
        using HttpClient client = app.Client(Viewer);

        using JsonDocument summaries = JsonDocument.Parse(await client.GetStringAsync("tasks/api/supervisors").Within());

        JsonElement summary = summaries.RootElement.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "imports");
        summary.GetProperty("draining").GetBoolean().Should().BeFalse("the drain has ended");
        summary.GetProperty("closed").GetBoolean().Should().BeTrue();
        JsonElement drain = summary.GetProperty("lastDrain");
        drain.GetProperty("tasksAtStart").GetInt32().Should().Be(1);
        drain.GetProperty("canceled").GetInt32().Should().Be(1);
        drain.GetProperty("stragglers").GetInt32().Should().Be(0);
        drain.GetProperty("complete").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Failures_KeepTheLastN_TypeAndMessageOnly_ByDefault()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(o => o.RecentFailureCapacity = 3);
        for (int i = 0; i < 5; i++)
        {
            int n = i;
            app.Supervisor.Run($"job:{n}", _ => throw new InvalidOperationException($"failure {n}"));
            await app.Supervisor.WhenIdleAsync().Within();
        }

        using HttpClient client = app.Client(Viewer);
        using JsonDocument failures = JsonDocument.Parse(await client.GetStringAsync("tasks/api/failures").Within());

        JsonElement[] rows = [.. failures.RootElement.EnumerateArray()];
        rows.Select(r => r.GetProperty("message").GetString()).Should().Equal("failure 4", "failure 3", "failure 2");
        rows[0].GetProperty("exceptionType").GetString().Should().Be("System.InvalidOperationException");
        rows[0].GetProperty("status").GetString().Should().Be("Faulted");
        rows[0].TryGetProperty("stackTrace", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Failures_WithStackTracesOptedIn_IncludeThem()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(o => o.IncludeStackTraces = true);
        app.Supervisor.Run("job", _ => throw new InvalidOperationException("boom"));
        await app.Supervisor.WhenIdleAsync().Within();
        using HttpClient client = app.Client(Viewer);

        using JsonDocument failures = JsonDocument.Parse(await client.GetStringAsync("tasks/api/failures").Within());

        failures.RootElement[0].GetProperty("stackTrace").GetString().Should().Contain("InvalidOperationException: boom").And.Contain(" at ");
    }

    [Fact]
    public async Task Events_StreamAnUpdateWithSummariesAndThePage()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Supervisor.Run("stream:1", _ => gate.Task);
        using HttpClient client = app.Client(Viewer);

        using HttpResponseMessage response = await client.GetAsync("tasks/api/events?keyPrefix=stream:", HttpCompletionOption.ResponseHeadersRead).Within();
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using StreamReader reader = new(await response.Content.ReadAsStreamAsync());
        string? eventLine = await reader.ReadLineAsync().Within();
        string? dataLine = await reader.ReadLineAsync().Within();

        eventLine.Should().Be("event: update");
        using JsonDocument update = JsonDocument.Parse(dataLine!["data: ".Length..]);
        update.RootElement.GetProperty("supervisors")[0].GetProperty("tracked").GetInt32().Should().Be(1);
        update.RootElement.GetProperty("tasks").GetProperty("items")[0].GetProperty("key").GetString().Should().Be("stream:1");
        update.RootElement.GetProperty("tasks").GetProperty("items")[0].GetProperty("status").GetString().Should().Be("Running");
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Events_StreamEndsWhenTheAppStops()
    {
        DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = app.Client(Viewer);
        using HttpResponseMessage response = await client.GetAsync("tasks/api/events", HttpCompletionOption.ResponseHeadersRead).Within();
        using StreamReader reader = new(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().Within()).Should().Be("event: update");

        await app.DisposeAsync();

        string rest = await reader.ReadToEndAsync().Within();
        rest.Should().NotBeNull("the stream ended instead of holding the shutdown");
    }

    [Fact]
    public async Task Session_ActionsOff_OffersNoCancelEvenToAnOpsUser()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        using HttpClient client = app.Client(Ops);

        using JsonDocument session = JsonDocument.Parse(await client.GetStringAsync("tasks/api/session").Within());

        session.RootElement.GetProperty("canCancel").GetBoolean().Should().BeFalse();
        session.RootElement.TryGetProperty("antiforgeryToken", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Cancel_ActionsOff_IsNotMapped()
    {
        await using DashboardApp app = await DashboardApp.StartAsync();
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = app.Supervisor.Run("victim", _ => gate.Task);
        using HttpClient client = app.Client(Ops);

        using HttpResponseMessage response = await client.PostAsync("tasks/api/cancel", Json(new { key = "victim" })).Within();

        response.StatusCode.Should().BeOneOf(HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed);
        task.Status.Should().NotBe(SupervisedTaskStatus.Canceled);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Cancel_UserFailingThePolicy_IsForbidden_AndGetsNoToken()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = app.Supervisor.Run("victim", _ => gate.Task);
        using HttpClient client = app.Client(Viewer);

        using JsonDocument session = JsonDocument.Parse(await client.GetStringAsync("tasks/api/session").Within());
        using HttpResponseMessage response = await client.PostAsync("tasks/api/cancel", Json(new { key = "victim" })).Within();

        session.RootElement.GetProperty("canCancel").GetBoolean().Should().BeFalse();
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        task.Status.Should().NotBe(SupervisedTaskStatus.Canceled);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Cancel_WithoutAntiforgeryToken_IsRejected()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = app.Supervisor.Run("victim", _ => gate.Task);
        using HttpClient client = app.Client(Ops);

        using HttpResponseMessage response = await client.PostAsync("tasks/api/cancel", Json(new { key = "victim" })).Within();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        task.Status.Should().NotBe(SupervisedTaskStatus.Canceled);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Cancel_TokenOfAnotherUser_IsRejected()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask task = app.Supervisor.Run("victim", _ => gate.Task);
        using HttpClient other = app.Client("ops-carol");
        (string header, string token) = await TokenAsync(other);
        using HttpClient client = app.Client(Ops);

        using HttpRequestMessage request = new(HttpMethod.Post, "tasks/api/cancel") { Content = Json(new { key = "victim" }) };
        request.Headers.Add(header, token);
        using HttpResponseMessage response = await client.SendAsync(request).Within();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        task.Status.Should().NotBe(SupervisedTaskStatus.Canceled);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task Cancel_PolicyAndToken_CancelsTheTask()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        SupervisedTask task = app.Supervisor.Run("victim", ct => Task.Delay(Timeout.Infinite, ct));
        using HttpClient client = app.Client(Ops);
        (string header, string token) = await TokenAsync(client);

        using HttpRequestMessage request = new(HttpMethod.Post, "tasks/api/cancel") { Content = Json(new { key = "victim" }) };
        request.Headers.Add(header, token);
        using HttpResponseMessage response = await client.SendAsync(request).Within();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("result").GetString().Should().Be("Canceled");
        task.Status.Should().Be(SupervisedTaskStatus.Canceled);
    }

    [Fact]
    public async Task CancelPrefix_CancelsOnlyTheMatchingTasks()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        SupervisedTask[] imports = [.. Enumerable.Range(0, 3).Select(i => app.Supervisor.Run($"import:{i}", ct => Task.Delay(Timeout.Infinite, ct)))];
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask export = app.Supervisor.Run("export:0", _ => gate.Task);
        using HttpClient client = app.Client(Ops);
        (string header, string token) = await TokenAsync(client);

        using HttpRequestMessage request = new(HttpMethod.Post, "tasks/api/cancel-prefix") { Content = Json(new { keyPrefix = "import:" }) };
        request.Headers.Add(header, token);
        using HttpResponseMessage response = await client.SendAsync(request).Within();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement body = await response.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("matched").GetInt32().Should().Be(3);
        body.GetProperty("canceled").GetInt32().Should().Be(3);
        body.GetProperty("stillRunning").GetInt32().Should().Be(0);
        imports.Should().OnlyContain(t => t.Status == SupervisedTaskStatus.Canceled);
        export.Status.Should().Be(SupervisedTaskStatus.Running);
        gate.SetResult();
        await app.Supervisor.WhenIdleAsync().Within();
    }

    [Fact]
    public async Task CancelPrefix_EmptyPrefix_IsBadRequest()
    {
        await using DashboardApp app = await DashboardApp.StartAsync(EnableCancel);
        using HttpClient client = app.Client(Ops);
        (string header, string token) = await TokenAsync(client);

        using HttpRequestMessage request = new(HttpMethod.Post, "tasks/api/cancel-prefix") { Content = Json(new { keyPrefix = "" }) };
        request.Headers.Add(header, token);
        using HttpResponseMessage response = await client.SendAsync(request).Within();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    private static void EnableCancel(TaskSupervisorDashboardOptions o)
    {
        o.EnableCancel = true;
        o.CancelPolicy = DashboardApp.CancelPolicy;
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static async Task<(string Header, string Token)> TokenAsync(HttpClient client)
    {
        using JsonDocument session = JsonDocument.Parse(await client.GetStringAsync("tasks/api/session").Within());
        session.RootElement.GetProperty("canCancel").GetBoolean().Should().BeTrue();
        return (session.RootElement.GetProperty("antiforgeryHeader").GetString()!, session.RootElement.GetProperty("antiforgeryToken").GetString()!);
    }
}
