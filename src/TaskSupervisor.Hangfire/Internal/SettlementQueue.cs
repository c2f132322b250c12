using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace TaskSupervision.Hangfire.Internal;

/// <summary>What becomes of a stored job once its work is settled in process.</summary>
internal enum SettlementKind
{
    /// <summary>The work is done (or was never started here): the stored job is deleted.</summary>
    Delete,

    /// <summary>The work is given to Hangfire: the stored job is enqueued.</summary>
    HandOff,
}

/// <summary>One storage change that settles a stored job: what to do, to which entry, and the reason to record.</summary>
internal readonly record struct Settlement(DurableEntry Entry, SettlementKind Kind, string Reason);

/// <summary>
/// Makes the storage changes that settle durable work: each with bounded retries and backoff, and off the supervisor's
/// task-end path. A queued settlement is made by one of a few workers of this queue, never inside the supervisor's
/// callback that queued it, so that a slow or failing storage never delays a task's end, its run slot or a drain.
/// </summary>
/// <remarks>
/// Hangfire's storage interface is synchronous, so each attempt blocks the thread that makes it: at most
/// <see cref="DurableWorkConstants.SettlementWorkers"/> queue workers do so at once. The wait between attempts is an
/// asynchronous delay on the supervisor's clock, which blocks no thread. Nothing here throws: a settlement that fails
/// for good is logged, and the stored job then runs when its lease runs out (at least once).
/// </remarks>
internal sealed class SettlementQueue
{
    // The default, AllowSynchronousContinuations = false, is what keeps the writer's thread (a supervisor callback) from
    // running a waiting worker, and with it the storage call, inline.
    private readonly Channel<Settlement> _channel = Channel.CreateUnbounded<Settlement>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly Action<Settlement> _attempt;
    private readonly Action<Settlement, Exception> _gaveUp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task[] _workers;
    private int _pending;

    /// <param name="attempt">Makes the storage change once; it throws when the storage fails.</param>
    /// <param name="gaveUp">Reports a settlement whose every attempt failed, with the last exception.</param>
    /// <param name="time">The clock of the backoff.</param>
    /// <param name="logger">Where each retry is logged.</param>
    public SettlementQueue(Action<Settlement> attempt, Action<Settlement, Exception> gaveUp, TimeProvider time, ILogger logger)
    {
        _attempt = attempt;
        _gaveUp = gaveUp;
        _time = time;
        _logger = logger;
        _workers = new Task[DurableWorkConstants.SettlementWorkers];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    /// <summary>The settlements queued or in progress.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>
    /// Queues a settlement and returns at once. Once the queue is completed (this object's owner is disposed), it makes
    /// the settlement on the calling thread instead, so that none is lost: its first attempt runs before this returns.
    /// </summary>
    public void Enqueue(Settlement settlement)
    {
        Interlocked.Increment(ref _pending);
        if (!_channel.Writer.TryWrite(settlement))
        {
            // Too late for the workers (a task that ended after the owner's disposal): settle it here rather than lose it.
            _ = RunCountedAsync(settlement);
        }
    }

    /// <summary>Makes the storage change with bounded retries. The returned task never faults.</summary>
    public async Task RunAsync(Settlement settlement)
    {
        TimeSpan delay = DurableWorkConstants.SettlementRetryInitialDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                _attempt(settlement);
                return;
            }
            catch (Exception exception) when (attempt < DurableWorkConstants.SettlementAttempts)
            {
                // The delay is created before the line is logged: whoever acts on the line (a test that advances a fake
                // clock) finds its timer already set.
                Task wait = Task.Delay(delay, _time);
                Log.SettlementRetrying(_logger, exception, settlement.Kind, settlement.Entry.Key, settlement.Entry.JobId, attempt, DurableWorkConstants.SettlementAttempts, delay.TotalMilliseconds);
                await wait.ConfigureAwait(false);
                delay += delay;
            }
            catch (Exception exception)
            {
                try
                {
                    _gaveUp(settlement, exception);
                }
                catch (Exception)
                {
                    // A logger that throws: there is nowhere safer to report it, and a settlement never throws.
                }

                return;
            }
        }
    }

    /// <summary>
    /// Accepts no more work for the workers and waits, up to <paramref name="timeout"/>, until every queued settlement is
    /// made (or has failed for good).
    /// </summary>
    /// <returns>The number of settlements still queued or in progress at the timeout; 0 when all are done.</returns>
    public async Task<int> CompleteAsync(TimeSpan timeout)
    {
        _channel.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_workers).WaitAsync(timeout, _time).ConfigureAwait(false);
            return 0;
        }
        catch (TimeoutException)
        {
            return Pending;
        }
    }

    private async Task WorkAsync()
    {
        ChannelReader<Settlement> reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out Settlement settlement))
            {
                await RunCountedAsync(settlement).ConfigureAwait(false);
            }
        }
    }

    private async Task RunCountedAsync(Settlement settlement)
    {
        try
        {
            await RunAsync(settlement).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }
}
