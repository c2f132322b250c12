using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo.Pitfalls;

/// <summary>What the monitor routes answer.</summary>
internal sealed record MonitorState(string Session, string Outcome, long? TaskId, double? StopMs, int LiveZombieLoops);

/// <summary>
/// Pitfall 3: leaked tasks. A monitor loop per session: the broken one is started with Task.Run and kept nowhere, so it can
/// be neither found, stopped nor awaited, and every start adds one more.
/// </summary>
internal static partial class LeakedTasks
{
    public static RouteGroupBuilder MapLeakedTasks(this IEndpointRouteBuilder routes)
    {
        RouteGroupBuilder group = routes.MapGroup("").WithTags("3. Leaked tasks");

        // Broken: a loop per call, kept nowhere. Starting twice starts two; it survives its stop route and the host.
        group.MapPost("/broken/monitors/{session}/start", (string session, TimeProvider time) =>
        {
            // Read here, not in the loop: a pull of the kill switch must never miss a loop that has not started running yet.
            CancellationToken killSwitch = ZombieLoops.KillSwitch;
            ZombieLoops.Live.Increment();
#pragma warning disable TS0001 // deliberately broken: pitfall 3
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        await Task.Delay(DemoTimings.MonitorInterval, time, killSwitch);
                    }
                }
                finally
                {
                    ZombieLoops.Live.Decrement();
                }
            });
#pragma warning restore TS0001
            return new MonitorState(session, "started", TaskId: null, StopMs: null, ZombieLoops.Live.Value);
        });

        // Broken: nothing holds the loop, so there is no handle to cancel and nothing to await.
        group.MapPost("/broken/monitors/{session}/stop", (string session) =>
            new MonitorState(session, "no handle: the loop cannot be stopped", TaskId: null, StopMs: null, ZombieLoops.Live.Value));

        // Fixed: one keyed monitor per session; a second start returns the running one.
        group.MapPost("/fixed/monitors/{session}/start", (string session, ITaskSupervisor supervisor, TimeProvider time, MonitorCleanups cleanups, ILoggerFactory loggers) =>
        {
            string key = "monitor:" + session;
            ILogger logger = loggers.CreateLogger("PitfallsDemo.SessionMonitor");
            long? before = supervisor.TryGetTask(key, out SupervisedTask? existing) ? existing.Id : null;
            SupervisedTask monitor = supervisor.Run(
                key,
                ct => MonitorAsync(session, time, cleanups, logger, ct),
                new TaskOptions { Name = "session-monitor", IfKeyRunning = KeyConflictBehavior.UseExisting });
            string outcome = monitor.Id == before ? "already running" : "started";
            return new MonitorState(session, outcome, monitor.Id, StopMs: null, ZombieLoops.Live.Value);
        });

        // Fixed: cancel the monitor and wait until it has ended and its cleanup has run.
        group.MapPost("/fixed/monitors/{session}/stop", async (string session, ITaskSupervisor supervisor, TimeProvider time, CancellationToken requestAborted) =>
        {
            long started = time.GetTimestamp();
            CancelResult result = await supervisor.CancelAsync("monitor:" + session, DemoTimings.StopTimeout, requestAborted);
            double stopMs = Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1);
            return new MonitorState(session, result.ToString(), TaskId: null, stopMs, ZombieLoops.Live.Value);
        });

        return group;
    }

    private static async Task MonitorAsync(string session, TimeProvider time, MonitorCleanups cleanups, ILogger logger, CancellationToken cancellationToken)
    {
        int ticks = 0;
        try
        {
            while (true)
            {
                await Task.Delay(DemoTimings.MonitorInterval, time, cancellationToken);
                ticks++;
            }
        }
        finally
        {
            // The cleanup a real monitor needs (flush, unsubscribe, release the session): it runs on stop and on shutdown.
            cleanups.Record(session);
            LogCleanedUp(logger, session, ticks);
        }
    }

    [LoggerMessage(EventId = 200, EventName = "MonitorCleanedUp", Level = LogLevel.Information, Message = "Monitor for session {Session} cleaned up after {Ticks} tick(s)")]
    private static partial void LogCleanedUp(ILogger logger, string session, int ticks);
}

/// <summary>The process-wide count of live broken monitor loops, and the demo's kill switch for them.</summary>
internal static class ZombieLoops
{
    private static CancellationTokenSource s_killSwitch = new();

    /// <summary>Loops started by the broken route and not ended. Process-wide: the loops outlive the app that started them.</summary>
    public static SignalingCounter Live { get; } = new();

    /// <summary>
    /// A token only the tour and the tests use, to clean up after themselves. It is not part of the pitfall: the broken
    /// route gives its user no way to reach or stop the loops, and in a real app nothing like it would exist.
    /// </summary>
    public static CancellationToken KillSwitch => Volatile.Read(ref s_killSwitch).Token;

    /// <summary>Ends every broken loop started so far and waits until none is live. For test and tour cleanup only.</summary>
    public static async Task PullKillSwitchAsync(CancellationToken cancellationToken = default)
    {
        using CancellationTokenSource pulled = Interlocked.Exchange(ref s_killSwitch, new CancellationTokenSource());
        await pulled.CancelAsync().ConfigureAwait(false);
        await Live.WaitUntilAsync(static live => live <= 0, cancellationToken).ConfigureAwait(false);
    }
}
