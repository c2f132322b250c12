using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using PitfallsDemo.Support;
using TaskSupervision.Testing;
using Xunit.Abstractions;

namespace PitfallsDemo.Tests;

/// <summary>
/// The demo app as its own process on a loopback port: a bounded burst of requests each starts a supervised job (one that
/// completes or faults after a random delay of up to 500 ms, or one that loops until cancelled), then a real SIGTERM while
/// work is in flight. The app's
/// last words, printed at the end of its shutdown drain, must account for every job it started.
/// </summary>
public sealed partial class RealProcessShutdownTests(ITestOutputHelper output)
{
    private const int Requests = 2_000;
    private const int Concurrency = 16;

    /// <summary>The burst stops here even if not all requests were sent: a slow machine sends fewer, never waits longer.</summary>
    private static readonly TimeSpan BurstLimit = TimeSpan.FromSeconds(15);

    /// <summary>Starting up, and exiting after SIGTERM, each get this long.</summary>
    private static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Sigterm_WhileJobsAreInFlight_EveryStartedJobEndsAndIsAccountedFor_AndTheAppExitsZero()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // SIGTERM is a POSIX signal; CI runs on Linux.
        }

        using var app = DemoProcess.Start();
        try
        {
            string address = await app.Address.WaitAsync(StepLimit);
            output.WriteLine($"app pid {app.Process.Id} listening on {address}");

            // 1. The burst: every accepted request started one job; the client counts them by kind.
            var started = new ConcurrentDictionary<string, int>();
            int refused = 0;
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency })
            {
                BaseAddress = new Uri(address),
                Timeout = StepLimit,
            };
            using var burstLimit = new CancellationTokenSource(BurstLimit);
            var burst = Stopwatch.StartNew();
            try
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, Requests), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = burstLimit.Token }, async (_, ct) =>
                {
                    using HttpResponseMessage response = await http.PostAsync("/fixed/jobs", content: null, ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref refused);
                        return;
                    }

                    JobStarted job = (await response.Content.ReadFromJsonAsync<JobStarted>(ct))!;
                    started.AddOrUpdate(job.Kind, 1, static (_, n) => n + 1);
                });
            }
            catch (OperationCanceledException) when (burstLimit.IsCancellationRequested)
            {
                // The time bound of the burst: what was sent so far is the burst.
            }

            int sent = started.Values.Sum();
            output.WriteLine($"burst: {sent} jobs started in {burst.Elapsed.TotalSeconds:0.0} s ({string.Join(", ", started.Select(p => $"{p.Value} {p.Key}"))}), {refused} refused");
            sent.Should().BeGreaterThan(100, "the burst must start real load even on a slow machine");
            refused.Should().Be(0, "nothing is refused before the shutdown");
            started.GetValueOrDefault("loops").Should().BeGreaterThan(0, "looping jobs are in flight until cancelled");

            // 2. A real SIGTERM (Process.Kill would be SIGKILL), while jobs are in flight.
            var stopping = Stopwatch.StartNew();
            app.Terminate();
            await app.Process.WaitForExitAsync().WaitAsync(StepLimit);
            app.Process.WaitForExit(); // and the end of its redirected output
            TimeSpan exitAfter = stopping.Elapsed;
            output.WriteLine($"exited with {app.Process.ExitCode} {exitAfter.TotalSeconds:0.0} s after SIGTERM");
            foreach (string line in app.Lines.Where(l => l.Contains("accounting", StringComparison.Ordinal) || l.Contains("Shutdown drain", StringComparison.Ordinal)))
            {
                output.WriteLine("app: " + line.Trim());
            }

            // 3. The app's own account: every job it started ended, and none was cut off unreported.
            app.Process.ExitCode.Should().Be(0, app.Transcript());
            Match accounting = app.Lines.Select(l => AccountingLine().Match(l)).Where(m => m.Success).Should().ContainSingle(app.Transcript()).Subject;
            int Field(string name) => int.Parse(accounting.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
            Field("started").Should().Be(sent, "the app started exactly the jobs the client was told about");
            (Field("completed") + Field("canceled") + Field("faulted")).Should().Be(Field("started"), "every started job ended, once: " + accounting.Value);
            Field("stragglers").Should().Be(0);
            Field("canceled").Should().BeGreaterThanOrEqualTo(started.GetValueOrDefault("loops"), "every looping job ended by the drain's cancellation");
            Field("faulted").Should().BeInRange(1, started.GetValueOrDefault("faults"), "some faulting jobs ended on their own, the rest were canceled");
            Field("completed").Should().BeInRange(1, started.GetValueOrDefault("completes"), "some completing jobs ended on their own, the rest were canceled");

            // 4. The drain finished within the supervisor's shutdown timeout.
            Match drained = app.Lines.Select(l => DrainLine().Match(l)).Where(m => m.Success).Should().ContainSingle(app.Transcript()).Subject;
            double.Parse(drained.Groups["ms"].Value, System.Globalization.CultureInfo.InvariantCulture)
                .Should().BeLessThan(DemoTimings.ShutdownTimeout.TotalMilliseconds);
        }
        finally
        {
            app.KillIfRunning();
        }
    }

    [GeneratedRegex(@"supervisor accounting: started=(?<started>\d+) completed=(?<completed>\d+) canceled=(?<canceled>\d+) faulted=(?<faulted>\d+) stragglers=(?<stragglers>\d+)")]
    private static partial Regex AccountingLine();

    [GeneratedRegex(@"Shutdown drain: \d+ task\(s\), \d+ canceled, (?<stragglers>\d+) straggler\(s\), in (?<ms>[\d.]+) ms")]
    private static partial Regex DrainLine();

    /// <summary>The demo app in a child process; its address is known once it prints where it listens.</summary>
    private sealed class DemoProcess : ChildProcess
    {
        private const string Listening = "Now listening on: ";
        private readonly TaskCompletionSource<string> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The sample's dll is copied next to this test assembly (a project reference).
        private DemoProcess()
            : base([typeof(Program).Assembly.Location, "--urls", "http://127.0.0.1:0"], new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" })
        {
        }

        public Task<string> Address => _address.Task;

        public static DemoProcess Start()
        {
            var app = new DemoProcess();
            app.Launch();
            return app;
        }

        protected override void OnLine(string line)
        {
            int at = line.IndexOf(Listening, StringComparison.Ordinal);
            if (at >= 0)
            {
                _address.TrySetResult(line[(at + Listening.Length)..].Trim());
            }
        }
    }
}
