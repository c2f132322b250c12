namespace TaskSupervision.Hangfire.Internal;

/// <summary>Every default and every name this package writes into Hangfire's storage, in one place.</summary>
internal static class DurableWorkConstants
{
    public static readonly TimeSpan DefaultLeaseDuration = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultLeaseRenewalInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan DefaultKeyLockTimeout = TimeSpan.FromSeconds(15);

    public const string DefaultQueue = "default";

    /// <summary>
    /// How many times a storage change that settles a job (the delete after a completion, a hand-off) is tried before it
    /// is logged as failed; the job then runs when its lease runs out.
    /// </summary>
    public const int SettlementAttempts = 5;

    /// <summary>The wait before the first retry of a settlement; each later wait doubles it (0.2, 0.4, 0.8, 1.6 s).</summary>
    public static readonly TimeSpan SettlementRetryInitialDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>How many hand-offs are made at once, each a synchronous storage call on a thread of its own.</summary>
    public const int SettlementWorkers = 4;

    /// <summary>
    /// How long disposal waits for the hand-offs still queued when the supervisor is not a <see cref="TaskSupervisor"/>
    /// (whose <see cref="TaskSupervisor.ShutdownTimeout"/> is used otherwise).
    /// </summary>
    public static readonly TimeSpan DefaultSettlementDrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The core's one rule for timeouts: what a .NET timer accepts.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>The job parameter that holds the work's key.</summary>
    public const string KeyParameter = "TaskSupervisor.Key";

    /// <summary>The job parameter that counts the deliveries of the work so far, in every process.</summary>
    public const string DeliveriesParameter = "TaskSupervisor.Deliveries";

    /// <summary>The hash that records which job holds a key, and the prefix of the distributed lock that guards it.</summary>
    public const string KeyResourcePrefix = "task-supervisor:durable-key:";

    /// <summary>
    /// How long a key record is kept after its start, in a storage that expires hashes. Past it, a work still running
    /// (stored as leased or in a queue longer than this) no longer keeps its key from a second start.
    /// </summary>
    public static readonly TimeSpan KeyRecordLifetime = TimeSpan.FromDays(7);

    /// <summary>The field of that hash that holds the job id.</summary>
    public const string KeyJobIdField = "JobId";

    /// <summary>
    /// Hangfire's index of scheduled jobs, a sorted set scored by the time each becomes due. Hangfire's
    /// <c>ScheduledState</c> adds a job to it, and the delayed job scheduler enqueues what is due and removes, with a
    /// warning, an entry whose job is no longer scheduled.
    /// </summary>
    public const string ScheduleSet = "schedule";
}
