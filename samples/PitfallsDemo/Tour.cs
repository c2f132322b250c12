using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using PitfallsDemo.Durable;
using PitfallsDemo.Pitfalls;
using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo;

/// <summary>
/// The guided tour (<c>dotnet run --project samples/PitfallsDemo -- --tour</c>): starts the app on a free loopback port,
/// calls each broken and fixed route over HTTP, prints what happened with the evidence, stops the host and prints the drain
/// report. It checks its own claims: any claim that does not hold is printed as UNEXPECTED and the tour returns 1.
/// </summary>
internal static class Tour
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        List<string> surprises = [];
        void Say(string line = "") => output.WriteLine(line);
        void Check(bool holds, string claim)
        {
            if (!holds)
            {
                surprises.Add(claim);
                Say("  UNEXPECTED: " + claim);
            }
        }

        using var telemetry = new TelemetryWitness();
        WebApplication app = Program.BuildApp(["--urls=http://127.0.0.1:0"], tour: true);
        await using (app.ConfigureAwait(false))
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            using HttpClient http = new() { BaseAddress = new Uri(address), Timeout = WaitLimit };
            ITaskSupervisor supervisor = app.Services.GetRequiredService<ITaskSupervisor>();
            LogJournal journal = app.Services.GetRequiredService<LogJournal>();
            Mailer mailer = app.Services.GetRequiredService<Mailer>();
            FailedJobs failedJobs = app.Services.GetRequiredService<FailedJobs>();
            MonitorCleanups cleanups = app.Services.GetRequiredService<MonitorCleanups>();
            int zombiesAtStart = ZombieLoops.Live.Value;

            async Task<T> CallAsync<T>(HttpMethod method, string path)
            {
                long start = TimeProvider.System.GetTimestamp();
                using HttpResponseMessage response = await http.SendAsync(new HttpRequestMessage(method, path), cancellationToken).ConfigureAwait(false);
                string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                double ms = TimeProvider.System.GetElapsedTime(start).TotalMilliseconds;
                Say($"  {method} {path} -> {(int)response.StatusCode} {response.ReasonPhrase} in {ms:0} ms: {body}");
                response.EnsureSuccessStatusCode();
                return JsonSerializer.Deserialize<T>(body, JsonSerializerOptions.Web)!;
            }

            Say($"TaskSupervisor pitfalls tour: the demo app is listening on {address}");
            using (HttpResponseMessage dashboard = await http.GetAsync("/tasks/", cancellationToken).ConfigureAwait(false))
            {
                Check(dashboard.IsSuccessStatusCode, "the live dashboard answers at /tasks/");
            }

            Say($"The live dashboard (TaskSupervisor.AspNetCore) is at {address}/tasks/ while the app runs.");

            // Pitfall 1
            Say();
            Say("1. Critical work left unawaited: the response needs the user lookup's result.");
            UserStatus broken1 = await CallAsync<UserStatus>(HttpMethod.Get, "/broken/users/42/status").ConfigureAwait(false);
            UserStatus fixed1 = await CallAsync<UserStatus>(HttpMethod.Get, "/fixed/users/42/status").ConfigureAwait(false);
            Check(broken1.User is null, "the broken user status has no user data");
            Check(fixed1.User?.Name == "Ada Lovelace", "the fixed user status has the user");
            Say($"  broken: 200 OK, status \"{broken1.Status}\" and no user data: the response left before the lookup finished.");
            Say($"  fixed:  200 OK, status \"{fixed1.Status}\" with user \"{fixed1.User?.Name}\": the route awaited the supervised lookup.");

            // Pitfall 2
            Say();
            Say("2. Silent failure: the welcome email to bob@ (no domain) throws after the 200 has been sent.");
            int faultsBefore = journal.FaultsLogged.Value;
            int rejectedBefore = mailer.Rejections.Value;
            await CallAsync<Registration>(HttpMethod.Post, "/broken/register?email=bob@").ConfigureAwait(false);
            await mailer.Rejections.WaitUntilAsync(n => n > rejectedBefore, cancellationToken).WaitAsync(WaitLimit, cancellationToken).ConfigureAwait(false);
            int brokenFaults = journal.FaultsLogged.Value - faultsBefore;
            Check(brokenFaults == 0 && failedJobs.Count == 0, "the broken route's exception leaves no log record and no failed job");
            Say($"  broken: 200 OK; the mailer threw (1 exception), {brokenFaults} faults logged, {failedJobs.Count} failed jobs: the exception was lost.");

            (bool died, string evidence) = await AsyncVoidCrash.RunAsync(output, cancellationToken).ConfigureAwait(false);
            Check(died, "the async void route's exception terminates its process");
            Say($"  broken, async void: 200 OK, then the exception killed the whole server process ({evidence}).");

            Registration fixed2 = await CallAsync<Registration>(HttpMethod.Post, "/fixed/register?email=bob@").ConfigureAwait(false);
            await supervisor.WhenIdleAsync(cancellationToken).WaitAsync(WaitLimit, cancellationToken).ConfigureAwait(false);
            LogRecord? fault = journal.Records.LastOrDefault(r => r.EventName == "TaskFaulted" && r.TaskKey == fixed2.TaskKey);
            Check(fault is not null, $"a TaskFaulted error is logged for key {fixed2.TaskKey}");
            Say($"  log record: {fault?.Level} {fault?.EventName}: {fault?.Message}: {fault?.Exception?.GetType().Name}: {fault?.Exception?.Message}");
            List<FailedJob> jobs = await CallAsync<List<FailedJob>>(HttpMethod.Get, "/failed-jobs").ConfigureAwait(false);
            Check(jobs.Count == 1 && jobs[0].Key == "email:bob@", "one failed job is recorded for email:bob@");
            Say($"  fixed:  200 OK at once; fault logged for key {fixed2.TaskKey} ({journal.FaultsLogged.Value - faultsBefore} TaskFaulted record), {jobs.Count} failed job recorded.");

            // Pitfall 3
            Say();
            Say("3. Leaked tasks: a monitor loop per session; start s1 twice and s2 once, then stop s1.");
            await CallAsync<MonitorState>(HttpMethod.Post, "/broken/monitors/s1/start").ConfigureAwait(false);
            await CallAsync<MonitorState>(HttpMethod.Post, "/broken/monitors/s1/start").ConfigureAwait(false);
            await CallAsync<MonitorState>(HttpMethod.Post, "/broken/monitors/s2/start").ConfigureAwait(false);
            MonitorState brokenStop = await CallAsync<MonitorState>(HttpMethod.Post, "/broken/monitors/s1/stop").ConfigureAwait(false);
            int zombies = brokenStop.LiveZombieLoops - zombiesAtStart;
            Check(zombies == 3, "three broken loops are running after stop");
            Say($"  broken: {zombies} monitor loops still running after stop (two of them for s1); nothing can find or stop them.");

            MonitorState first = await CallAsync<MonitorState>(HttpMethod.Post, "/fixed/monitors/s1/start").ConfigureAwait(false);
            MonitorState second = await CallAsync<MonitorState>(HttpMethod.Post, "/fixed/monitors/s1/start").ConfigureAwait(false);
            await CallAsync<MonitorState>(HttpMethod.Post, "/fixed/monitors/s2/start").ConfigureAwait(false);
            MonitorState fixedStop = await CallAsync<MonitorState>(HttpMethod.Post, "/fixed/monitors/s1/stop").ConfigureAwait(false);
            int running = supervisor.GetSnapshot().Count(t => t.Key?.StartsWith("monitor:", StringComparison.Ordinal) == true);
            Check(second.TaskId == first.TaskId, "the second start of s1 returns the running monitor");
            Check(fixedStop.Outcome == nameof(CancelResult.Canceled) && cleanups.Sessions.Contains("s1"), "stop cancels s1 and its cleanup runs");
            Say($"  fixed:  the second start of s1 kept task #{first.TaskId}; stop returned {fixedStop.Outcome} after {fixedStop.StopMs} ms");
            Say($"          and the cleanup of s1 ran; {running} monitor (s2) left running for the shutdown.");

            Say();
            Say("The contrast at any time: GET /status");
            await CallAsync<DemoStatus>(HttpMethod.Get, "/status").ConfigureAwait(false);

            // Shutdown
            Say();
            Say("Health: GET /health (TaskSupervisor.HealthChecks: faults in the last 5 minutes, overdue tasks, queue)");
            using (HttpResponseMessage health = await http.GetAsync("/health", cancellationToken).ConfigureAwait(false))
            {
                Say($"  GET /health -> {(int)health.StatusCode} {await health.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }

            Say();
            Say("Shutdown: the host stops; TaskSupervisor.Hosting drains the supervisor inside the host's stop.");
            int cleanupsBefore = journal.Records.Count(r => r.EventName == "MonitorCleanedUp");
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            DrainReport report = await app.Services.GetRequiredService<DrainOnShutdown>().Report.WaitAsync(WaitLimit, cancellationToken).ConfigureAwait(false);
            Say($"  drain report: {report}");
            foreach (SupervisedTaskInfo straggler in report.Stragglers)
            {
                Say($"  straggler: {straggler}");
            }

            foreach (LogRecord cleanup in journal.Records.Where(r => r.EventName == "MonitorCleanedUp").Skip(cleanupsBefore))
            {
                Say($"  log record: {cleanup.Level} {cleanup.EventName}: {cleanup.Message}");
            }

            Check(report.IsComplete && cleanups.Sessions.Contains("s2"), "the drain stops s2 and runs its cleanup");
            int zombiesAfterStop = ZombieLoops.Live.Value - zombiesAtStart;
            Check(zombiesAfterStop == 3, "the broken loops survive the host");
            Say($"  broken: {zombiesAfterStop} monitor loops still running after the host stopped; only the process exit ends them.");
            await ZombieLoops.PullKillSwitchAsync(cancellationToken).WaitAsync(WaitLimit, cancellationToken).ConfigureAwait(false);
            Say("  (the tour now pulls its demo-only kill switch, which the broken routes never offer: 0 loops left)");

            Say();
            Say("What OpenTelemetry would export (run with -- --otel for the console exporter):");
            Say($"  {TaskSupervisorDiagnostics.TasksStarted} = {telemetry.Sum(TaskSupervisorDiagnostics.TasksStarted)}; " +
                $"{TaskSupervisorDiagnostics.TasksEnded}: completed {telemetry.Sum(TaskSupervisorDiagnostics.TasksEnded, "completed")}, " +
                $"faulted {telemetry.Sum(TaskSupervisorDiagnostics.TasksEnded, "faulted")}, canceled {telemetry.Sum(TaskSupervisorDiagnostics.TasksEnded, "canceled")}; " +
                $"{TaskSupervisorDiagnostics.TasksRunning} now {telemetry.Sum(TaskSupervisorDiagnostics.TasksRunning)}");
            Say($"  {TaskSupervisorDiagnostics.DrainDuration} = {telemetry.Sum(TaskSupervisorDiagnostics.DrainDuration) * 1000:0.#} ms");
            (System.Diagnostics.Activity? emailTask, System.Diagnostics.Activity? request) = telemetry.FindTrace("email:bob@");
            Check(emailTask is not null && request is not null, "the email task's trace links to the request that started it");
            Say($"  trace: '{emailTask?.DisplayName}' ({emailTask?.Status}, trace {emailTask?.TraceId.ToHexString()[..8]}...) " +
                $"links to the request span '{request?.DisplayName}' (trace {request?.TraceId.ToHexString()[..8]}...)");
            Check(telemetry.Sum(TaskSupervisorDiagnostics.TasksEnded, "faulted") >= 1, "the metrics count the email fault");
        }

        // Durable work
        Say();
        Say("4. A crash loses nothing: the critical job of pitfall 2 as durable work (TaskSupervisor.Hangfire, SQLite file).");
        (bool finished, string crashEvidence) = await CrashLosesNothing.RunAsync(output, cancellationToken).ConfigureAwait(false);
        Check(finished, "the second copy of the app confirms the order the first was running when it was killed, on delivery 2");
        Say($"  durable: {crashEvidence}: a crash loses nothing.");

        Say();
        Say(surprises.Count == 0
            ? "Tour complete: every claim above was checked against the running app."
            : $"Tour complete with {surprises.Count} unexpected result(s).");
        return surprises.Count == 0 ? 0 : 1;
    }
}
