using PitfallsDemo.Pitfalls;
using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task StoppingTheHost_DrainsEveryMonitor_AndRunsTheirCleanup()
    {
        DemoFactory app = new();
        DrainOnShutdown drain;
        MonitorCleanups cleanups;
        ITaskSupervisor supervisor;
        await using (app)
        {
            drain = app.Get<DrainOnShutdown>();
            cleanups = app.Get<MonitorCleanups>();
            supervisor = app.Get<ITaskSupervisor>();
            foreach (string session in new[] { "s1", "s2", "s3" })
            {
                await app.PostAsync<MonitorState>($"/fixed/monitors/{session}/start");
            }

            // Every monitor is running (waiting on the clock), so each has a cleanup to run.
            await app.Time.WaitForTimersAsync(DemoTimings.MonitorInterval, count: 3);
        } // Disposing the factory stops the host.

        DrainReport report = await drain.Report.WaitAsync(Limits.Wait);
        report.TasksAtStart.Should().Be(3);
        report.Canceled.Should().Be(3);
        report.Stragglers.Should().BeEmpty();
        cleanups.Sessions.Should().BeEquivalentTo("s1", "s2", "s3");
        supervisor.Count.Should().Be(0);
    }
}
