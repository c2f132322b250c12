using TaskSupervision.Hangfire.Internal;

namespace TaskSupervision.Hangfire;

/// <summary>Settings of <see cref="DurableWork"/>, registered with <c>AddDurableWork</c>.</summary>
public sealed class DurableWorkOptions
{
    /// <summary>
    /// How long a stored job waits, from its start or its last renewal, before any Hangfire server may run it. This
    /// process renews the lease while the work is tracked here, so the lease only runs out when this process stops
    /// renewing: it crashed, hung, or lost the storage. A shorter lease means a faster recovery after a crash and more
    /// writes while the work runs.
    /// </summary>
    /// <value>Defaults to 30 seconds. Must be positive and longer than <see cref="LeaseRenewalInterval"/>.</value>
    public TimeSpan LeaseDuration { get; set; } = DurableWorkConstants.DefaultLeaseDuration;

    /// <summary>
    /// How often the leases of the durable work tracked in this process are renewed, all of them in one storage
    /// transaction.
    /// </summary>
    /// <value>Defaults to 10 seconds. Must be positive and shorter than <see cref="LeaseDuration"/>.</value>
    public TimeSpan LeaseRenewalInterval { get; set; } = DurableWorkConstants.DefaultLeaseRenewalInterval;

    /// <summary>How long a start waits for the storage's distributed lock on its key before it throws.</summary>
    /// <value>Defaults to 15 seconds. Must be positive.</value>
    public TimeSpan KeyLockTimeout { get; set; } = DurableWorkConstants.DefaultKeyLockTimeout;

    /// <summary>The Hangfire queue that handed-off work is enqueued on.</summary>
    /// <value>Defaults to <c>"default"</c>, Hangfire's default queue.</value>
    public string Queue { get; set; } = DurableWorkConstants.DefaultQueue;

    /// <summary>
    /// The name of the supervisor that runs the work in process (one registered with <c>AddTaskSupervisor(name)</c>), or
    /// <see langword="null"/> for the default supervisor.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? SupervisorName { get; set; }

    internal List<string> GetProblems()
    {
        var problems = new List<string>();
        if (LeaseDuration <= TimeSpan.Zero || LeaseDuration > DurableWorkConstants.MaxTimeout)
        {
            problems.Add($"{nameof(LeaseDuration)} must be positive and at most {DurableWorkConstants.MaxTimeout}; it is {LeaseDuration}.");
        }

        if (LeaseRenewalInterval <= TimeSpan.Zero || LeaseRenewalInterval >= LeaseDuration)
        {
            problems.Add($"{nameof(LeaseRenewalInterval)} must be positive and shorter than {nameof(LeaseDuration)} ({LeaseDuration}); it is {LeaseRenewalInterval}.");
        }

        if (KeyLockTimeout <= TimeSpan.Zero || KeyLockTimeout > DurableWorkConstants.MaxTimeout)
        {
            problems.Add($"{nameof(KeyLockTimeout)} must be positive and at most {DurableWorkConstants.MaxTimeout}; it is {KeyLockTimeout}.");
        }

        if (string.IsNullOrWhiteSpace(Queue))
        {
            problems.Add($"{nameof(Queue)} must name a Hangfire queue.");
        }

        return problems;
    }
}
