using PitfallsDemo.Pitfalls;
using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo.Tests;

public sealed class LeakedTaskTests : IAsyncLifetime
{
    private readonly DemoFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await ZombieLoops.PullKillSwitchAsync().WaitAsync(Limits.Wait);
    }

    [Fact]
    public async Task BrokenMonitors_StartTwice_RunTwoLoops_ThatSurviveStopAndTheHost()
    {
        int before = ZombieLoops.Live.Value;

        await _app.PostAsync<MonitorState>("/broken/monitors/s1/start");
        await _app.PostAsync<MonitorState>("/broken/monitors/s1/start");
        MonitorState stop = await _app.PostAsync<MonitorState>("/broken/monitors/s1/stop");

        stop.Outcome.Should().StartWith("no handle");
        stop.LiveZombieLoops.Should().Be(before + 2);

        // Both loops are alive: each waits on the clock, wakes up when it advances, and waits again.
        await _app.Time.WaitForTimersAsync(DemoTimings.MonitorInterval, count: 2);
        _app.Time.Advance(DemoTimings.MonitorInterval);
        await _app.Time.WaitForTimersAsync(DemoTimings.MonitorInterval, count: 2);

        await _app.DisposeAsync();
        ZombieLoops.Live.Value.Should().Be(before + 2, "nothing the host does at shutdown can reach them");
    }

    [Fact]
    public async Task FixedMonitor_StartTwice_KeepsOne_AndStopCancelsItAfterItsCleanup()
    {
        MonitorState first = await _app.PostAsync<MonitorState>("/fixed/monitors/s1/start");
        MonitorState second = await _app.PostAsync<MonitorState>("/fixed/monitors/s1/start");
        await _app.Time.WaitForTimersAsync(DemoTimings.MonitorInterval);

        second.TaskId.Should().Be(first.TaskId);
        second.Outcome.Should().Be("already running");
        _app.Get<ITaskSupervisor>().GetSnapshot().Should().ContainSingle()
            .Which.Should().BeEquivalentTo(new { Key = "monitor:s1", Name = "session-monitor", Status = SupervisedTaskStatus.Running });

        MonitorState stop = await _app.PostAsync<MonitorState>("/fixed/monitors/s1/stop");

        stop.Outcome.Should().Be(nameof(CancelResult.Canceled));
        _app.Get<MonitorCleanups>().Sessions.Should().Equal("s1");
        _app.Get<LogJournal>().Records.Should().Contain(r => r.EventName == "MonitorCleanedUp" && r.Message.Contains("s1"));
        _app.Get<ITaskSupervisor>().Count.Should().Be(0);
    }

    [Fact]
    public async Task Status_ListsTheSupervisedMonitors_AndTheLiveZombieLoops()
    {
        int before = ZombieLoops.Live.Value;
        await _app.PostAsync<MonitorState>("/fixed/monitors/s1/start");
        await _app.PostAsync<MonitorState>("/broken/monitors/s1/start");

        DemoStatus status = await _app.GetAsync<DemoStatus>("/status");

        status.Supervised.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Key = "monitor:s1", Name = "session-monitor" });
        status.Broken.LiveZombieLoops.Should().Be(before + 1);
    }
}
