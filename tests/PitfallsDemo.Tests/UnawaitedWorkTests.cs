using System.Net.Http.Json;
using PitfallsDemo.Pitfalls;
using PitfallsDemo.Support;

namespace PitfallsDemo.Tests;

public sealed class UnawaitedWorkTests : IAsyncLifetime
{
    private readonly DemoFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task BrokenUserStatus_AnswersWhileTheLookupIsStillRunning_WithoutUserData()
    {
        UserStatus status = await _app.GetAsync<UserStatus>("/broken/users/42/status");

        status.Status.Should().Be("processing");
        status.User.Should().BeNull();

        // The lookup was started and is still waiting on the clock: its result can only arrive after the response left.
        await _app.Time.WaitForTimersAsync(DemoTimings.LookupDelay);
        _app.Time.Advance(DemoTimings.LookupDelay);
    }

    [Fact]
    public async Task FixedUserStatus_AwaitsTheSupervisedLookup_AndReturnsTheUser()
    {
        using HttpClient client = _app.CreateClient();
        Task<UserStatus?> request = client.GetFromJsonAsync<UserStatus>("/fixed/users/42/status");

        await _app.Time.WaitForTimersAsync(DemoTimings.LookupDelay);
        request.IsCompleted.Should().BeFalse("the route waits for the lookup, which waits for the clock");
        _app.Time.Advance(DemoTimings.LookupDelay);
        UserStatus? status = await request.WaitAsync(Limits.Wait);

        status!.Status.Should().Be("ready");
        status.User.Should().Be(new UserProfile(42, "Ada Lovelace", "pro"));
    }
}
