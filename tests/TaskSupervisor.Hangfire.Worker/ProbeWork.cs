using Hangfire;

namespace TaskSupervision.Hangfire.Worker;

/// <summary>The durable work of the tests: it records each delivery in this process's results file.</summary>
public interface IProbeWork
{
    /// <summary>Records its start, works for <paramref name="workMs"/> (honouring the token), records its end.</summary>
    Task DoAsync(int id, int workMs, CancellationToken cancellationToken);

    /// <summary>Records the delivery and throws, every time. Hangfire retries it twice, at once, then marks it Failed.</summary>
    [AutomaticRetry(Attempts = 2, DelaysInSeconds = [0], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task FailAsync(int id, CancellationToken cancellationToken);
}

/// <summary>Settings of the probe work in this process, set by the worker's arguments.</summary>
public static class ProbeSettings
{
    /// <summary>Completed by the producer once every start has returned; a process that produces nothing completes it at once.</summary>
    public static TaskCompletionSource AllStored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long the work takes when a Hangfire server of this process runs it, if not as stored.</summary>
    public static int? HangfireWorkMs { get; set; }

    /// <summary>When set, an in-process delivery fails at once (after recording its start), so that the job is handed off.</summary>
    public static bool HandOffInProcess { get; set; }
}

/// <summary>Writes one line per event: <c>start|done|fail id delivery inprocess|hangfire job-id</c>.</summary>
public sealed class ProbeWork(ResultLog log) : IProbeWork
{
    /// <inheritdoc />
    public async Task DoAsync(int id, int workMs, CancellationToken cancellationToken)
    {
        DurableWorkContext context = DurableWorkContext.Current ?? throw new InvalidOperationException("No durable work context.");
        log.Write("start", id, context);
        if (context.IsInProcess && ProbeSettings.HandOffInProcess)
        {
            throw new InvalidOperationException($"Probe job {id} is handed off (handoff=1).");
        }

        if (context.IsInProcess)
        {
            // In the producing process the work begins only once every start has returned, so that a kill finds
            // every job stored and part of them in flight.
            await ProbeSettings.AllStored.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (ProbeSettings.HangfireWorkMs is int hangfireWorkMs)
        {
            workMs = hangfireWorkMs;
        }

        if (workMs > 0)
        {
            // The work itself takes this long (a call to a slow service); it is what a kill interrupts.
            await Task.Delay(workMs, cancellationToken).ConfigureAwait(false);
        }

        log.Write("done", id, context);
    }

    /// <inheritdoc />
    public Task FailAsync(int id, CancellationToken cancellationToken)
    {
        DurableWorkContext context = DurableWorkContext.Current ?? throw new InvalidOperationException("No durable work context.");
        log.Write("fail", id, context);
        throw new InvalidOperationException($"Probe job {id} fails on every delivery (this was delivery {context.Delivery}).");
    }
}

/// <summary>The results file of this process, one line per event, flushed to the OS at once so a kill -9 loses none.</summary>
public sealed class ResultLog : IDisposable
{
    private readonly object _gate = new();
    private readonly StreamWriter _writer;

    /// <summary>Opens (appends to) <paramref name="path"/>.</summary>
    public ResultLog(string path) => _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

    /// <summary>Writes one event line.</summary>
    public void Write(string what, int id, DurableWorkContext context)
    {
        lock (_gate)
        {
            _writer.WriteLine($"{what} {id} {context.Delivery} {(context.IsInProcess ? "inprocess" : "hangfire")} {context.JobId}");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
