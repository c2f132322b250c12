using TaskSupervision;

namespace PitfallsDemo.Support;

/// <summary>
/// Drains the supervisor when the host stops, after the server has stopped taking requests, and keeps the report. The
/// container's disposal would drain it anyway; draining here gives the app the <see cref="DrainReport"/> to log and show.
/// </summary>
internal sealed partial class DrainOnShutdown(ITaskSupervisor supervisor, JobAccounting jobs, ILogger<DrainOnShutdown> logger) : IHostedLifecycleService
{
    private readonly TaskCompletionSource<DrainReport> _report = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the report once the host has stopped and the drain has ended.</summary>
    public Task<DrainReport> Report => _report.Task;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // StoppedAsync runs after every hosted service's StopAsync, the web server's included: no request can start new
    // work any more, and in-flight requests have finished.
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        DrainReport report = await supervisor.DrainAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        LogDrained(logger, report.TasksAtStart, report.Canceled, report.Stragglers.Count, report.Elapsed.TotalMilliseconds);

        // One machine-readable line, written straight to the output and flushed, so that a process that exits next
        // cannot lose it in a logger's queue: tests/PitfallsDemo.Tests/RealProcessShutdownTests.cs reads it.
        if (jobs.Output is { } output)
        {
            await output.WriteLineAsync(jobs.Describe(report)).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        _report.TrySetResult(report);
    }

    [LoggerMessage(EventId = 100, EventName = "ShutdownDrained", Level = LogLevel.Information,
        Message = "Shutdown drain: {TaskCount} task(s), {CanceledCount} canceled, {StragglerCount} straggler(s), in {ElapsedMs} ms")]
    private static partial void LogDrained(ILogger logger, int taskCount, int canceledCount, int stragglerCount, double elapsedMs);
}
