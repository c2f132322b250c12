using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace TaskSupervision.Hosting.Tests;

/// <summary>
/// Issue 11 with a real process and a real signal: tests/TaskSupervisor.Hosting.ShutdownApp runs a host whose
/// supervisor's <c>ShutdownTimeout</c> is 2 s while the host's is 30 s, with one supervised task that ignores its token.
/// On SIGTERM its drain must end at the supervisor's 2 s, and the process exit with 0 long before the host's 30 s.
/// </summary>
public sealed partial class HostDrainProcessTests(ITestOutputHelper output)
{
    /// <summary>Starting up gets this long on a loaded machine.</summary>
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(30);

    /// <summary>The exit after SIGTERM must come within this: generous for a loaded machine, well below the host's 30 s.</summary>
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Sigterm_SupervisorsShutdownTimeoutIsSmallerThanTheHosts_DrainEndsAtIt_AndTheProcessExitsZero()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a POSIX signal; CI runs on Linux.
        }

        using var app = ShutdownApp.Start();
        try
        {
            await app.Ready.WaitAsync(StartLimit);
            output.WriteLine($"app pid {app.Process.Id} ready");

            // A real SIGTERM (Process.Kill would be SIGKILL), as a service manager or docker stop sends it.
            var stopping = Stopwatch.StartNew();
            app.Terminate();
            bool exitedInTime = await app.Process.WaitForExitAsync().WaitAsync(ExitLimit).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            TimeSpan exitAfter = stopping.Elapsed;
            exitedInTime.Should().BeTrue($"the process must exit within {ExitLimit.TotalSeconds} s of SIGTERM, not wait for the host's 30 s; " + app.Transcript());
            app.Process.WaitForExit(); // and the end of its redirected output
            output.WriteLine($"exited with {app.Process.ExitCode} {exitAfter.TotalSeconds:0.00} s after SIGTERM");
            output.WriteLine(app.Transcript());

            app.Process.ExitCode.Should().Be(0, app.Transcript());

            // Event 106: the drain's deadline is the smaller of the two, and both are logged.
            Match deadline = app.Lines.Select(l => DeadlineLine().Match(l)).Where(m => m.Success).Should().ContainSingle(app.Transcript()).Subject;
            deadline.Groups["deadline"].Value.Should().Be("2000");
            deadline.Groups["own"].Value.Should().Be("2000");
            deadline.Groups["host"].Value.Should().Be("28000", "the host's 30 s less its 2 s margin");

            // The drain ended at the supervisor's 2 s with the one stubborn task as its straggler.
            Match drained = app.Lines.Select(l => DrainedLine().Match(l)).Where(m => m.Success).Should().ContainSingle(app.Transcript()).Subject;
            drained.Groups["stragglers"].Value.Should().Be("1");
            double.Parse(drained.Groups["ms"].Value, CultureInfo.InvariantCulture)
                .Should().BeInRange(1_950, 10_000, "the drain waits for the supervisor's 2 s deadline, and not for the host's 28 s");
            app.Lines.Should().Contain(l => l.Contains("key stubborn", StringComparison.Ordinal) && l.Contains("[7]", StringComparison.Ordinal), "the straggler is logged by key");
        }
        finally
        {
            app.KillIfRunning();
        }
    }

    [GeneratedRegex(@"\[106\] Supervisor \S+ drains within (?<deadline>[\d.]+) ms: the smaller of its ShutdownTimeout \((?<own>[\d.]+) ms\) and the host's deadline \((?<host>[\d.]+) ms\)")]
    private static partial Regex DeadlineLine();

    [GeneratedRegex(@"\[6\] Supervisor \S+ drained 1 task\(s\) in (?<ms>[\d.]+) ms: .* (?<stragglers>\d+) straggler\(s\)")]
    private static partial Regex DrainedLine();

    /// <summary>The app in a child process; ready once it prints <c>ready</c>.</summary>
    private sealed class ShutdownApp : ChildProcess
    {
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The app's dll is copied next to this test assembly (a project reference).
        private ShutdownApp()
            : base(
                [Path.Combine(AppContext.BaseDirectory, "TaskSupervisor.Hosting.ShutdownApp.dll")],
                new Dictionary<string, string>
                {
                    ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1", // numbers in the logs as the regexes read them
                    ["DOTNET_ENVIRONMENT"] = "Production",
                })
        {
            Process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException("the app exited before it was ready; " + Transcript()));
        }

        public Task Ready => _ready.Task;

        public static ShutdownApp Start()
        {
            var app = new ShutdownApp();
            app.Launch();
            return app;
        }

        protected override void OnLine(string line)
        {
            if (line == "ready")
            {
                _ready.TrySetResult();
            }
        }
    }
}
