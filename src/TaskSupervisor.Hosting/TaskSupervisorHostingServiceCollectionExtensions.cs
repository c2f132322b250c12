using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TaskSupervision;
using TaskSupervision.Hosting;
using TaskSupervision.Hosting.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Generic Host integration of TaskSupervisor in an <see cref="IServiceCollection"/>.</summary>
public static class TaskSupervisorHostingServiceCollectionExtensions
{
    /// <summary>
    /// Ties every registered <see cref="ITaskSupervisor"/> to the host's lifetime. When the host stops, a hosted service
    /// drains the default supervisor and every named one in parallel, within
    /// <see cref="TaskSupervisorHostingOptions.DrainTimeout"/> (by default <c>HostOptions.ShutdownTimeout</c> less a margin),
    /// and logs each report; a task that fails while marked critical can stop the host
    /// (<see cref="TaskSupervisorHostingOptions.CriticalTaskFailure"/>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the integration; may be <see langword="null"/>. Calling this method again adds the configuration but never a second hosted service.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>When the hosted service's <c>StopAsync</c> returns, every supervisor's drain has ended (or the host's own
    /// shutdown token fired first): each task has ended and its callbacks have run, except the stragglers, which ignored
    /// their tokens past the deadline and are logged by key and name. This happens before the host disposes the container,
    /// so a task's <c>finally</c> block can still resolve services and log.</para>
    /// <para>Hosted services stop in the reverse order of their registration: call this before registering the services
    /// that hand work to the supervisors, so that they stop first.</para>
    /// <para>Supervisors may be registered before or after this call.</para>
    /// </remarks>
    public static IServiceCollection AddTaskSupervisorHosting(this IServiceCollection services, Action<TaskSupervisorHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<TaskSupervisorHostingOptions> options = services.AddOptions<TaskSupervisorHostingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaskSupervisorHostingOptions>, TaskSupervisorHostingOptionsValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SupervisorDrainService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<TaskSupervisorOptions>, CriticalTaskFailureHook>());
        return services;
    }
}
