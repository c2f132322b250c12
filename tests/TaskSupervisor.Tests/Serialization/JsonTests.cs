using System.Text.Json;

namespace TaskSupervision.Tests.Serialization;

/// <summary>Statuses, outcomes and conflict behaviours serialise as names (issue 12), with both sets of defaults.</summary>
public sealed class JsonTests
{
    // System.Text.Json's defaults, and the web defaults ASP.NET Core uses for minimal APIs and controllers.
    public static TheoryData<string> Defaults => new() { "general", "web" };

    private static JsonSerializerOptions Options(string defaults) =>
        defaults == "web" ? new JsonSerializerOptions(JsonSerializerDefaults.Web) : new JsonSerializerOptions(JsonSerializerDefaults.General);

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Enums_SerialiseAsNames_AndReadBack(string defaults)
    {
        JsonSerializerOptions options = Options(defaults);

        JsonSerializer.Serialize(SupervisedTaskStatus.TimedOut, options).Should().Be("\"TimedOut\"");
        JsonSerializer.Serialize(CancelResult.StillRunning, options).Should().Be("\"StillRunning\"");
        JsonSerializer.Serialize(KeyConflictBehavior.Enqueue, options).Should().Be("\"Enqueue\"");
        JsonSerializer.Serialize(RestartMode.OnFailure, options).Should().Be("\"OnFailure\"");
        JsonSerializer.Deserialize<SupervisedTaskStatus>("\"Running\"", options).Should().Be(SupervisedTaskStatus.Running);
        JsonSerializer.Deserialize<KeyConflictBehavior>("\"UseExisting\"", options).Should().Be(KeyConflictBehavior.UseExisting);
    }

    [Theory]
    [MemberData(nameof(Defaults))]
    public async Task SnapshotAndPage_FromAnEndpoint_CarryTheStatusName_NotANumber_AndNoException(string defaults)
    {
        await using var harness = new Harness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("report:1", async _ => { started.SetResult(); await release.Task; }, new TaskOptions { Name = "report" });
        await started.Task.Within();
        JsonSerializerOptions options = Options(defaults);
        string status = defaults == "web" ? "status" : "Status";

        using JsonDocument snapshot = JsonDocument.Parse(JsonSerializer.Serialize(harness.Supervisor.GetSnapshot(), options));
        using JsonDocument page = JsonDocument.Parse(JsonSerializer.Serialize(harness.Supervisor.GetTasks(new TaskQuery()), options));

        JsonElement info = snapshot.RootElement[0];
        info.GetProperty(status).GetString().Should().Be("Running");
        info.TryGetProperty(defaults == "web" ? "lastException" : "LastException", out _).Should().BeFalse("an exception is not serialised");
        info.GetProperty(defaults == "web" ? "key" : "Key").GetString().Should().Be("report:1");
        page.RootElement.GetProperty(defaults == "web" ? "items" : "Items")[0].GetProperty(status).GetString().Should().Be("Running");
        page.RootElement.GetProperty(defaults == "web" ? "totalCount" : "TotalCount").GetInt32().Should().Be(1);
        release.SetResult();
    }

    [Theory]
    [MemberData(nameof(Defaults))]
    public void FailedTaskInfo_SerialisesTheErrorMessage_NotTheException(string defaults)
    {
        var info = new SupervisedTaskInfo(7, "k", null, SupervisedTaskStatus.Pending, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(1), restartCount: 2, lastException: new InvalidOperationException("db down"));

        using JsonDocument json = JsonDocument.Parse(JsonSerializer.Serialize(info, Options(defaults)));

        json.RootElement.GetProperty(defaults == "web" ? "lastError" : "LastError").GetString().Should().Be("db down");
        json.RootElement.GetProperty(defaults == "web" ? "restartCount" : "RestartCount").GetInt32().Should().Be(2);
        json.RootElement.GetProperty(defaults == "web" ? "status" : "Status").GetString().Should().Be("Pending");
    }

    [Theory]
    [MemberData(nameof(Defaults))]
    public async Task DrainReport_Serialises(string defaults)
    {
        await using var harness = new Harness();
        DrainReport report = await harness.Supervisor.DrainAsync().Within();

        using JsonDocument json = JsonDocument.Parse(JsonSerializer.Serialize(report, Options(defaults)));

        json.RootElement.GetProperty(defaults == "web" ? "isComplete" : "IsComplete").GetBoolean().Should().BeTrue();
    }
}
