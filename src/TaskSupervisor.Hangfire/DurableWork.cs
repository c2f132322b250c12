using System.Collections.Concurrent;
using System.Linq.Expressions;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TaskSupervision.Hangfire.Internal;

namespace TaskSupervision.Hangfire;

/// <summary>
/// Runs critical work in process at full speed, with a durable copy in Hangfire's storage that any Hangfire server runs
/// if this process cannot finish it. Register it with <c>services.AddDurableWork()</c> and start work with
/// <see cref="RunDurableAsync{TService}"/>.
/// </summary>
/// <remarks>
/// <para><b>Write-ahead lease.</b> Before a start returns, the work is stored as a Hangfire job in the
/// <c>Scheduled</c> state, due after <see cref="DurableWorkOptions.LeaseDuration"/>. Then it runs at once in this process
/// under the supervisor, as any supervised task (key, status, callbacks, restarts, timeout, metrics, traces, drain). While
/// it is tracked here its lease is renewed. When it completes, the stored job is deleted: in the normal path it runs
/// once, here, and no Hangfire server runs it.</para>
/// <para><b>Hand-off.</b> When the work fails for good (it faults or times out and its restart policy gives up), or it
/// is canceled (the drain at shutdown, a cancel), or it is still running when this object is disposed (a straggler), the
/// stored job is enqueued at once, so that any Hangfire server runs it with Hangfire's retries, and it shows in
/// Hangfire's dashboard.</para>
/// <para><b>Crash.</b> When this process dies, nobody renews the lease; when it runs out, any Hangfire server runs the
/// work.</para>
/// <para><b>Delivery is at least once.</b> A second delivery follows a crash, an expired lease (a process that stalled
/// longer than the lease), a hand-off of work that had done part of its job, or a failure. The work reads
/// <see cref="DurableWorkContext.Current"/> to learn which delivery it is, and should be idempotent.</para>
/// <para><b>Keys.</b> A key is unique across every process that shares the storage: a start takes the storage's
/// distributed lock on the key, and follows <see cref="TaskOptions.IfKeyRunning"/> if a live job holds it.</para>
/// <para><b>Storage failures.</b> The delete after a completion and a hand-off are each tried up to five times, with a
/// backoff of 0.2 s doubling on the supervisor's clock; one that still fails is logged, and its job runs again when its
/// lease runs out. A hand-off is made off the supervisor's task-end path, by a few workers of this object, so that a slow
/// storage never delays a task's end or a drain; disposal waits for the hand-offs still queued. The delete after a
/// completion is made by the work's own supervised task before it ends: a slow storage then holds the run slot, which
/// keeps the number of completed but unrecorded jobs (those a crash runs twice) at most the supervisor's concurrency.</para>
/// <para>Every member is thread-safe. Hangfire's storage interface is synchronous: a start makes its storage calls on
/// the calling thread.</para>
/// </remarks>
public sealed class DurableWork : IAsyncDisposable
{
    private static readonly string[] LiveStates =
        [ScheduledState.StateName, EnqueuedState.StateName, ProcessingState.StateName, AwaitingState.StateName];

    private readonly JobStorage _storage;
    private readonly BackgroundJobClient _client;
    private readonly ITaskSupervisor _supervisor;
    private readonly IServiceScopeFactory _scopes;
    private readonly IServiceProviderIsService? _isService;
    private readonly DurableWorkOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DurableEntry> _entries = new(StringComparer.Ordinal);
    private readonly ITimer _renewal;
    private readonly SettlementQueue _settlements;
    private readonly TimeSpan _settlementDrainTimeout;
    private int _renewing;
    private volatile bool _keyRecordsExpire = true;
    private int _disposed;

    internal DurableWork(
        JobStorage storage,
        IJobFilterProvider filters,
        ITaskSupervisor supervisor,
        IServiceScopeFactory scopes,
        IServiceProviderIsService? isService,
        DurableWorkOptions options,
        ILogger? logger,
        TimeProvider? timeProvider)
    {
        _storage = storage;
        _client = new BackgroundJobClient(storage, filters);
        _supervisor = supervisor;
        _scopes = scopes;
        _isService = isService;
        _options = options;
        _logger = logger ?? NullLogger.Instance;

        // The supervisor's clock drives the leases and the retries of the storage changes, as it drives the work's own
        // timeouts and restarts.
        var concrete = supervisor as TaskSupervisor;
        _time = concrete?.TimeProvider ?? timeProvider ?? TimeProvider.System;
        _settlementDrainTimeout = concrete?.ShutdownTimeout ?? DurableWorkConstants.DefaultSettlementDrainTimeout;
        _settlements = new SettlementQueue(Settle, GaveUp, _time, _logger);
        _renewal = _time.CreateTimer(static state => ((DurableWork)state!).RenewLeases(), this, options.LeaseRenewalInterval, options.LeaseRenewalInterval);
    }

    /// <summary>The number of durable work items tracked in this process: started here and not yet completed or handed off.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Stores a method call on <typeparamref name="TService"/> as a Hangfire job due after a lease, then runs it at once in
    /// this process under the supervisor.
    /// </summary>
    /// <typeparam name="TService">The service whose method is called; it must be registered in the container, which is
    /// where Hangfire resolves it when a server runs the job.</typeparam>
    /// <param name="key">The work's key, unique across every process that shares the storage, such as <c>"order:" + id</c>.</param>
    /// <param name="work">
    /// One call of a method on the service parameter, such as <c>s =&gt; s.ConfirmAsync(orderId, CancellationToken.None)</c>.
    /// Its arguments are evaluated now and stored as JSON; pass <see cref="CancellationToken.None"/> for a token parameter,
    /// which then receives the token of whoever runs the work.
    /// </param>
    /// <param name="options">
    /// The supervised task's settings, or <see langword="null"/> for the defaults. <see cref="TaskOptions.IfKeyRunning"/>
    /// applies across processes; <see cref="KeyConflictBehavior.Enqueue"/> is not supported for durable work.
    /// </param>
    /// <param name="cancellationToken">Cancels the start before anything is stored; it does not cancel the work.</param>
    /// <returns>The stored job and the task that runs it here.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="key"/> is empty or white space; <paramref name="work"/> is not one call on the service parameter (it
    /// calls a captured object), an argument is a delegate or cannot round-trip through JSON, or a token argument is not
    /// <see cref="CancellationToken.None"/>; or <paramref name="options"/> asks for <see cref="KeyConflictBehavior.Enqueue"/>
    /// or <see cref="RestartMode.Always"/>.
    /// Nothing is stored.
    /// </exception>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> is not registered in the container. Nothing is stored.</exception>
    /// <exception cref="TaskKeyConflictException">A live job holds the key and the behaviour is <see cref="KeyConflictBehavior.Reject"/>.</exception>
    /// <exception cref="ObjectDisposedException">This object is disposed, or the supervisor is draining (the stored job is then deleted).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before anything was stored.</exception>
    /// <exception cref="BackgroundJobClientException">The storage failed.</exception>
    /// <exception cref="DistributedLockTimeoutException">The key's distributed lock was not acquired within <see cref="DurableWorkOptions.KeyLockTimeout"/>.</exception>
    public Task<DurableTask> RunDurableAsync<TService>(
        string key,
        Expression<Func<TService, Task>> work,
        TaskOptions? options = null,
        CancellationToken cancellationToken = default)
        where TService : notnull
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        KeyConflictBehavior behavior = options?.IfKeyRunning ?? KeyConflictBehavior.Reject;
        if (behavior == KeyConflictBehavior.Enqueue)
        {
            throw new ArgumentException("KeyConflictBehavior.Enqueue is not supported for durable work; use Reject, UseExisting or Replace.", nameof(options));
        }

        if (options?.Restart?.Mode == RestartMode.Always)
        {
            throw new ArgumentException("RestartMode.Always is not supported for durable work: durable work completes once. Use RestartMode.OnFailure.", nameof(options));
        }

        if (_isService is not null && !_isService.IsService(typeof(TService)))
        {
            throw new InvalidOperationException(
                $"{typeof(TService).FullName} is not registered in the container. Durable work resolves its service there, in this process and on every Hangfire server: register it (services.AddScoped<{typeof(TService).Name}, ...>()) before starting durable work on it.");
        }

        // Every check that can refuse the call runs before the first storage write.
        DurableCall call = DurableCall.Create(work);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<DurableTask>(cancellationToken);
        }

        try
        {
            return Task.FromResult(Start(key, call, options, behavior));
        }
        catch (Exception exception)
        {
            return Task.FromException<DurableTask>(exception);
        }
    }

    /// <summary>
    /// Stops renewing leases and hands off to Hangfire the durable work still tracked here. Work that is still running
    /// first gets the supervisor's drain (a second drain waits for the same one); what is still running after it (a
    /// straggler that ignores its token) is enqueued at once, so a Hangfire server may run it while it still runs here.
    /// Then it waits for the hand-offs and deletes still queued, up to the supervisor's
    /// <see cref="TaskSupervisor.ShutdownTimeout"/> (30 seconds for another <see cref="ITaskSupervisor"/>).
    /// </summary>
    /// <returns>
    /// A task that completes when every tracked work item has been completed or handed off, each storage change made or
    /// failed for good (and logged); or, at that timeout, with the count of unfinished ones logged: those jobs run when
    /// their leases run out.
    /// </returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _renewal.DisposeAsync().ConfigureAwait(false);
        if (!_entries.IsEmpty)
        {
            // The container disposes this object before the supervisor it depends on, whose disposal drains it anyway:
            // drain now so that the work ends (and is handed off by its end callback) before its stragglers are.
            await _supervisor.DrainAsync().ConfigureAwait(false);
        }

        foreach (DurableEntry entry in _entries.Values)
        {
            if (entry.TrySettle())
            {
                _entries.TryRemove(entry.JobId, out _);
                _settlements.Enqueue(new Settlement(entry, SettlementKind.HandOff, "still running in process when the application stopped (a straggler)"));
            }
        }

        int unfinished = await _settlements.CompleteAsync(_settlementDrainTimeout).ConfigureAwait(false);
        if (unfinished != 0)
        {
            Log.SettlementsUnfinished(_logger, unfinished, _settlementDrainTimeout.TotalMilliseconds);
        }
    }

    private DurableTask Start(string key, DurableCall call, TaskOptions? options, KeyConflictBehavior behavior)
    {
        string resource = DurableWorkConstants.KeyResourcePrefix + key;
        DurableEntry entry;
        using (IStorageConnection connection = _storage.GetConnection())
        using (connection.AcquireDistributedLock(resource, _options.KeyLockTimeout))
        {
            string? holder = GetLiveHolder(connection, resource);
            if (holder is not null)
            {
                switch (behavior)
                {
                    case KeyConflictBehavior.UseExisting:
                        SupervisedTask? local = _entries.ContainsKey(holder) && _supervisor.TryGetTask(key, out SupervisedTask? running) ? running : null;
                        return new DurableTask(key, holder, local, isExisting: true);
                    case KeyConflictBehavior.Replace:
                        if (_entries.TryGetValue(holder, out DurableEntry? replaced))
                        {
                            // Its local task is canceled by the supervisor's own Replace below; its end must not hand off.
                            replaced.Replaced = true;
                        }

                        _client.ChangeState(holder, new DeletedState { Reason = "Replaced by a new start of its key" }, expectedState: null);
                        break;
                    default:
                        throw new TaskKeyConflictException(key);
                }
            }

            DateTimeOffset leaseEnd = _time.GetUtcNow() + _options.LeaseDuration;
            var parameters = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [DurableWorkConstants.KeyParameter] = key,

                // The in-process run about to start counts as the first delivery, even if a crash comes before it starts:
                // the work then sees a delivery above 1 when it could have been the first, never the reverse.
                [DurableWorkConstants.DeliveriesParameter] = 1,
            };
            string jobId = _client.Create(call.Job, new ScheduledState(leaseEnd.UtcDateTime) { Reason = "Leased to the in-process run that started it" }, parameters)
                ?? throw new InvalidOperationException("A Hangfire client filter canceled the creation of the durable job.");
            using (IWriteOnlyTransaction transaction = connection.CreateWriteTransaction())
            {
                transaction.SetRangeInHash(resource, [new KeyValuePair<string, string>(DurableWorkConstants.KeyJobIdField, jobId)]);
                ExpireKeyRecord(transaction, resource);
                transaction.Commit();
            }

            entry = new DurableEntry(key, jobId, call, leaseEnd, options?.OnEnded);
            _entries[jobId] = entry;
        }

        // The local start runs outside the storage lock: the work may end at once, and its end takes that lock again.
        var taskOptions = new TaskOptions
        {
            Name = options?.Name,
            IfKeyRunning = behavior == KeyConflictBehavior.Replace ? KeyConflictBehavior.Replace : KeyConflictBehavior.Reject,
            OnEnded = arguments => OnEnded(entry, arguments),
            Timeout = options?.Timeout,
            Restart = options?.Restart,
            IsCritical = options?.IsCritical ?? false,
        };
        try
        {
            SupervisedTask task = _supervisor.Run(key, cancellationToken => RunInProcessAsync(entry, cancellationToken), taskOptions);
            return new DurableTask(key, entry.JobId, task, isExisting: false);
        }
        catch
        {
            // Not started here (a draining supervisor, a non-durable task holding the key): the start fails as a whole,
            // and its stored job is deleted in the background, with retries.
            if (entry.TrySettle())
            {
                _entries.TryRemove(entry.JobId, out _);
                _settlements.Enqueue(new Settlement(entry, SettlementKind.Delete, "The in-process start failed"));
            }

            throw;
        }
    }

    private async Task RunInProcessAsync(DurableEntry entry, CancellationToken cancellationToken)
    {
        // Set on this asynchronous flow only; the async method restores the caller's value when it returns.
        DurableWorkContext.Current = new DurableWorkContext(entry.Key, entry.JobId, entry.NextDelivery(), isInProcess: true);
        await DurableCallRunner.RunAsync(entry.Call, _scopes, cancellationToken).ConfigureAwait(false);

        // The completion is recorded before the supervised task ends, inside its run slot: when the task has completed,
        // no server will run the work again (unless every attempt failed, which is logged), and at most MaxConcurrency
        // works can be done but not yet recorded (the only ones a crash makes run twice although they finished). The
        // retries wait asynchronously, and the work's token does not cut them short: the work is done, and a drain
        // that cancels it still wants its completion recorded rather than run again.
        if (entry.TrySettle())
        {
            _entries.TryRemove(entry.JobId, out _);
            await _settlements.RunAsync(new Settlement(entry, SettlementKind.Delete, "Completed in process")).ConfigureAwait(false);
        }
    }

    private void OnEnded(DurableEntry entry, TaskEndedArguments arguments)
    {
        try
        {
            // A completed work is settled already, by its last run.
            if (!entry.TrySettle())
            {
                return;
            }

            // A supervisor callback: the storage change is queued, never made here, so that a slow storage does not hold
            // the task's end (its run slot, its awaiters, a drain).
            _entries.TryRemove(entry.JobId, out _);
            switch (arguments.Status)
            {
                case SupervisedTaskStatus.RanToCompletion:
                    _settlements.Enqueue(new Settlement(entry, SettlementKind.Delete, "Completed in process"));
                    break;
                case SupervisedTaskStatus.Canceled when entry.Replaced:
                    break;
                case SupervisedTaskStatus.Canceled:
                    _settlements.Enqueue(new Settlement(entry, SettlementKind.HandOff, "Canceled in process (the supervisor drained, or the task was canceled)"));
                    break;
                default:
                    _settlements.Enqueue(new Settlement(entry, SettlementKind.HandOff, $"Failed in process after {entry.Deliveries} delivery(ies): {arguments.Exception?.GetType().Name}: {arguments.Exception?.Message}"));
                    break;
            }
        }
        finally
        {
            entry.UserOnEnded?.Invoke(arguments);
        }
    }

    /// <summary>One attempt at a settlement's storage change; it throws when the storage fails (the queue retries).</summary>
    private void Settle(Settlement settlement)
    {
        if (settlement.Kind == SettlementKind.HandOff)
        {
            HandOff(settlement.Entry, settlement.Reason);
        }
        else
        {
            DeleteStoredJob(settlement.Entry, settlement.Reason);
        }
    }

    private void GaveUp(Settlement settlement, Exception exception)
    {
        if (settlement.Kind == SettlementKind.HandOff)
        {
            Log.HandOffFailed(_logger, exception, settlement.Entry.Key, settlement.Entry.JobId);
        }
        else
        {
            Log.CompletionNotRecorded(_logger, exception, settlement.Entry.Key, settlement.Entry.JobId);
        }
    }

    private void DeleteStoredJob(DurableEntry entry, string reason)
    {
        // Scheduled while the lease holds; Enqueued if it ran out and no server has taken it yet. Either way no server
        // runs it now. A job a server is already processing is left to finish there.
        bool deleted = _client.ChangeState(entry.JobId, new DeletedState { Reason = reason }, ScheduledState.StateName)
            || _client.ChangeState(entry.JobId, new DeletedState { Reason = reason }, EnqueuedState.StateName);
        if (!deleted)
        {
            using IStorageConnection connection = _storage.GetConnection();
            string? state = connection.GetStateData(entry.JobId)?.Name;

            // Deleted already: an earlier attempt was committed although its caller saw a failure (a connection lost
            // after the commit). What is left is the key record.
            if (!string.Equals(state, DeletedState.StateName, StringComparison.OrdinalIgnoreCase))
            {
                Log.AlreadyTaken(_logger, entry.Key, entry.JobId, state);
                return;
            }
        }

        if (!_keyRecordsExpire)
        {
            ReleaseKey(entry);
        }
    }

    /// <summary>
    /// A key record outlives its job (a start only counts a record whose job can still run), so a storage that expires
    /// hashes drops it later at no cost to the completion. Only a storage that cannot makes each completion remove its
    /// record, under the key's lock.
    /// </summary>
    private void ExpireKeyRecord(IWriteOnlyTransaction transaction, string resource)
    {
        if (!_keyRecordsExpire)
        {
            return;
        }

        try
        {
            if (transaction is JobStorageTransaction expiring)
            {
                expiring.ExpireHash(resource, DurableWorkConstants.KeyRecordLifetime);
                return;
            }
        }
        catch (NotSupportedException)
        {
        }

        _keyRecordsExpire = false;
    }

    private void ReleaseKey(DurableEntry entry)
    {
        string resource = DurableWorkConstants.KeyResourcePrefix + entry.Key;
        using IStorageConnection connection = _storage.GetConnection();
        using (connection.AcquireDistributedLock(resource, _options.KeyLockTimeout))
        {
            // Under the key's lock: a later start may already hold the key, and its record must stay.
            Dictionary<string, string>? record = connection.GetAllEntriesFromHash(resource);
            if (record is not null && record.TryGetValue(DurableWorkConstants.KeyJobIdField, out string? holder) && holder == entry.JobId)
            {
                using IWriteOnlyTransaction transaction = connection.CreateWriteTransaction();
                transaction.RemoveHash(resource);
                transaction.Commit();
            }
        }
    }

    private void HandOff(DurableEntry entry, string reason)
    {
        using (IStorageConnection connection = _storage.GetConnection())
        {
            connection.SetJobParameter(entry.JobId, DurableWorkConstants.DeliveriesParameter, SerializationHelper.Serialize(entry.Deliveries));
        }

        // Only from Scheduled: if the lease already ran out (or an earlier attempt got through), the job is in Hangfire's hands.
        if (_client.ChangeState(entry.JobId, new EnqueuedState(_options.Queue) { Reason = "Handed off by TaskSupervisor: " + reason }, ScheduledState.StateName))
        {
            Log.HandedOff(_logger, entry.Key, entry.JobId, entry.Deliveries, reason);
        }
    }

    private static string? GetLiveHolder(IStorageConnection connection, string resource)
    {
        Dictionary<string, string>? record = connection.GetAllEntriesFromHash(resource);
        if (record is null || !record.TryGetValue(DurableWorkConstants.KeyJobIdField, out string? jobId))
        {
            return null;
        }

        // The record outlives its job when a process died before removing it, or a server finished the job: only a job
        // that can still run holds the key.
        string? state = connection.GetStateData(jobId)?.Name;
        return state is not null && Array.Exists(LiveStates, live => string.Equals(live, state, StringComparison.OrdinalIgnoreCase)) ? jobId : null;
    }

    private void RenewLeases()
    {
        // A timer callback: it must not throw, and a slow storage must not stack renewals.
        if (Interlocked.Exchange(ref _renewing, 1) != 0)
        {
            return;
        }

        var renewing = new List<DurableEntry>();
        try
        {
            DateTimeOffset now = _time.GetUtcNow();
            foreach (DurableEntry entry in _entries.Values)
            {
                if (entry.IsSettled)
                {
                    continue;
                }

                if (entry.LeaseEnd <= now)
                {
                    // Too late: a server may have enqueued it already. Renewing would put a job that is no longer
                    // scheduled back in the schedule.
                    if (entry.TryMarkLeaseLost())
                    {
                        Log.LeaseLost(_logger, entry.Key, entry.JobId);
                    }

                    continue;
                }

                renewing.Add(entry);
            }

            if (renewing.Count == 0)
            {
                return;
            }

            DateTimeOffset leaseEnd = now + _options.LeaseDuration;
            double score = JobHelper.ToTimestamp(leaseEnd.UtcDateTime);
            using (IStorageConnection connection = _storage.GetConnection())
            using (IWriteOnlyTransaction transaction = connection.CreateWriteTransaction())
            {
                // One transaction for every lease: moving a job's score in Hangfire's schedule index is what makes it due
                // later. The job's state (Scheduled) is unchanged, so renewing writes no state history.
                foreach (DurableEntry entry in renewing)
                {
                    transaction.AddToSet(DurableWorkConstants.ScheduleSet, entry.JobId, score);
                }

                transaction.Commit();
            }

            foreach (DurableEntry entry in renewing)
            {
                entry.LeaseEnd = leaseEnd;
            }
        }
        catch (Exception exception)
        {
            Log.LeaseRenewalFailed(_logger, exception, renewing.Count, _options.LeaseRenewalInterval.TotalMilliseconds);
        }
        finally
        {
            Volatile.Write(ref _renewing, 0);
        }
    }
}
