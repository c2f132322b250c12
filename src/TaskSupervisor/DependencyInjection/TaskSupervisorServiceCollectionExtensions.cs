using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSupervision;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="ITaskSupervisor"/> in an <see cref="IServiceCollection"/>.</summary>
public static class TaskSupervisorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default <see cref="ITaskSupervisor"/> as a singleton. The container's disposal drains it, so stopping
    /// the host (Ctrl+C, SIGTERM) cancels and awaits its tasks within <see cref="TaskSupervisorOptions.ShutdownTimeout"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the supervisor's options; may be <see langword="null"/>. Calling this method again adds the configuration but never a second supervisor.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddTaskSupervisor(this IServiceCollection services, Action<TaskSupervisorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddOptions(services, Options.Options.DefaultName, configure);
        services.TryAddSingleton<ITaskSupervisor>(static provider => Create(provider, Options.Options.DefaultName));
        return services;
    }

    /// <summary>
    /// Registers a named <see cref="ITaskSupervisor"/> as a keyed singleton, a pool of its own (resolve it with
    /// <c>[FromKeyedServices("emails")] ITaskSupervisor</c> or <c>GetRequiredKeyedService&lt;ITaskSupervisor&gt;("emails")</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The supervisor's name and service key.</param>
    /// <param name="configure">Configures the supervisor's options; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    public static IServiceCollection AddTaskSupervisor(this IServiceCollection services, string name, Action<TaskSupervisorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AddOptions(services, name, configure);
        services.TryAddKeyedSingleton<ITaskSupervisor>(name, static (provider, key) => Create(provider, (string)key!));
        return services;
    }

    /// <summary>
    /// Registers the default <see cref="ITaskSupervisor"/>, configured with access to the container (for example to record
    /// failures in a service: <c>(o, services) =&gt; o.OnTaskEnded += services.GetRequiredService&lt;FailedJobs&gt;().Record</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the supervisor's options with the application's services.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddTaskSupervisor(this IServiceCollection services, Action<TaskSupervisorOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddTaskSupervisor();
        services.AddOptions<TaskSupervisorOptions>(Options.Options.DefaultName).Configure<IServiceProvider>((o, provider) => configure(o, provider));
        return services;
    }

    /// <summary>Registers a named <see cref="ITaskSupervisor"/>, configured with access to the container.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The supervisor's name and service key.</param>
    /// <param name="configure">Configures the supervisor's options with the application's services.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="name"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    public static IServiceCollection AddTaskSupervisor(this IServiceCollection services, string name, Action<TaskSupervisorOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddTaskSupervisor(name);
        services.AddOptions<TaskSupervisorOptions>(name).Configure<IServiceProvider>((o, provider) => configure(o, provider));
        return services;
    }

    private static void AddOptions(IServiceCollection services, string name, Action<TaskSupervisorOptions>? configure)
    {
        OptionsBuilder<TaskSupervisorOptions> builder = services.AddOptions<TaskSupervisorOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaskSupervisorOptions>, TaskSupervisorOptionsValidator>());
        if (configure is not null)
        {
            builder.Configure(configure);
        }
    }

    private static TaskSupervisor Create(IServiceProvider provider, string name) =>
        new(
            provider.GetRequiredService<IOptionsMonitor<TaskSupervisorOptions>>().Get(name),
            name,
            provider.GetService<TimeProvider>(),
            provider.GetService<ILoggerFactory>(),
            provider.GetRequiredService<IServiceScopeFactory>(),
            provider.GetService<IMeterFactory>());
}
