using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TaskSupervision.Hosting.Internal;

/// <summary>
/// Drains every supervisor registered in the container, in parallel, when the host stops, each within the smaller of
/// its own <see cref="TaskSupervisor.ShutdownTimeout"/> and the host's deadline.
/// </summary>
/// <remarks>
/// <para>The drain runs in <see cref="StopAsync"/>, not <see cref="StoppingAsync"/>: hosted services are stopped in the
/// reverse order of their registration, so when this service is registered before the application's own (the usual
/// place in <c>Program.cs</c>), the web server and the workers that hand work to the supervisors stop first, and a
/// request still in flight can start background work. <see cref="StoppingAsync"/> runs before every
/// <see cref="IHostedService.StopAsync"/> and would close the supervisors under them.</para>
/// <para>The host disposes the container only after every hosted service has stopped, so a task's cleanup can still
/// resolve services and log while the drain waits for it.</para>
/// </remarks>
internal sealed class SupervisorDrainService : IHostedLifecycleService
{
    private readonly IServiceProvider _services;
    private readonly IOptions<HostOptions> _hostOptions;
    private readonly IOptionsMonitor<TaskSupervisorHostingOptions> _options;
    private readonly ILogger _logger;

    public SupervisorDrainService(
        IServiceProvider services,
        IOptions<HostOptions> hostOptions,
        IOptionsMonitor<TaskSupervisorHostingOptions> options,
        ILogger<SupervisorDrainService> logger)
    {
        _services = services;
        _hostOptions = hostOptions;
        _options = options;
        _logger = logger;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<ITaskSupervisor> supervisors;
        try
        {
            supervisors = ResolveSupervisors();
        }
        catch (ObjectDisposedException)
        {
            // The host is stopped after its container was disposed (a host disposed first, then stopped, as a test
            // factory may do): the container disposed, and so drained, every supervisor it had created.
            return;
        }

        if (supervisors.Count == 0)
        {
            return;
        }

        TimeSpan hostTimeout = GetDrainTimeout(_options.CurrentValue.DrainTimeout, _hostOptions.Value.ShutdownTimeout);
        Log.HostDrainStarted(_logger, supervisors.Count, hostTimeout.TotalMilliseconds);

        // In parallel: each drain waits for its own tasks, so the slowest supervisor, not the sum, bounds shutdown.
        var drains = new Task[supervisors.Count];
        for (int i = 0; i < drains.Length; i++)
        {
            drains[i] = DrainAsync(supervisors[i], hostTimeout, cancellationToken);
        }

        await Task.WhenAll(drains).ConfigureAwait(false);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The user's drain timeout, else the host's shutdown timeout less a margin for the rest of shutdown.</summary>
    internal static TimeSpan GetDrainTimeout(TimeSpan? configured, TimeSpan shutdownTimeout)
    {
        if (configured is TimeSpan timeout)
        {
            return timeout;
        }

        if (shutdownTimeout == Timeout.InfiniteTimeSpan)
        {
            return shutdownTimeout;
        }

        if (shutdownTimeout <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        TimeSpan margin = TimeSpan.FromTicks(Math.Min(
            (long)(shutdownTimeout.Ticks * HostingConstants.ShutdownMarginShare),
            HostingConstants.MaxShutdownMargin.Ticks));
        return shutdownTimeout - margin;
    }

    /// <summary>
    /// A supervisor's drain deadline: the smaller of its own <see cref="TaskSupervisor.ShutdownTimeout"/> (the deadline the
    /// README promises) and the host's, so that neither is exceeded. <see cref="Timeout.InfiniteTimeSpan"/> is the largest.
    /// </summary>
    internal static TimeSpan GetSupervisorDeadline(TimeSpan? supervisorTimeout, TimeSpan hostTimeout)
    {
        if (supervisorTimeout is not TimeSpan own || own == Timeout.InfiniteTimeSpan)
        {
            return hostTimeout;
        }

        return hostTimeout == Timeout.InfiniteTimeSpan || own < hostTimeout ? own : hostTimeout;
    }

    private List<ITaskSupervisor> ResolveSupervisors()
    {
        // The default supervisor and every named (keyed) one. A supervisor never resolved is created here only to be
        // drained at once, which is cheap. Reference equality guards against a container that lists the unkeyed
        // registration under AnyKey too.
        var seen = new HashSet<ITaskSupervisor>(ReferenceEqualityComparer.Instance);
        var supervisors = new List<ITaskSupervisor>();
        if (_services.GetService<ITaskSupervisor>() is ITaskSupervisor unkeyed && seen.Add(unkeyed))
        {
            supervisors.Add(unkeyed);
        }

        foreach (ITaskSupervisor keyed in _services.GetKeyedServices<ITaskSupervisor>(KeyedService.AnyKey))
        {
            if (seen.Add(keyed))
            {
                supervisors.Add(keyed);
            }
        }

        return supervisors;
    }

    private async Task DrainAsync(ITaskSupervisor supervisor, TimeSpan hostTimeout, CancellationToken cancellationToken)
    {
        // Never throws: one supervisor's failure must not stop the others' drains, nor the host's shutdown. The report
        // itself is logged once, by the supervisor (DrainCompleted, one DrainStraggler per task still running).
        try
        {
            TimeSpan? own = (supervisor as TaskSupervisor)?.ShutdownTimeout;
            TimeSpan deadline = GetSupervisorDeadline(own, hostTimeout);
            Log.SupervisorDrainDeadline(_logger, supervisor.Name, deadline.TotalMilliseconds, own?.TotalMilliseconds, hostTimeout.TotalMilliseconds);
            await supervisor.DrainAsync(deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's own shutdown timeout (or its caller) gave up first; the drain goes on to its deadline, unawaited.
            Log.HostDrainAbandoned(_logger, supervisor.Name);
        }
#pragma warning disable CA1031 // A drain that fails is reported, and the other supervisors still drain.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.HostDrainFailed(_logger, ex, supervisor.Name);
        }
    }
}
