using Microsoft.Extensions.Configuration;
using TaskSupervision;
using TaskSupervision.Hosting;
using TaskSupervision.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Binds TaskSupervisor's options from configuration (<c>appsettings.json</c>, environment variables), with every bad
/// setting reported at host start in one <see cref="Options.OptionsValidationException"/> that names it by its
/// configuration path.
/// </summary>
/// <remarks>
/// These live in TaskSupervisor.Hosting, not in the core package, because the core depends on no configuration package;
/// an application that reads <c>appsettings.json</c> runs on the Generic Host, which this package integrates with anyway.
/// Without it, <c>services.Configure&lt;TaskSupervisorOptions&gt;(section)</c> binds as well, and validation then names
/// each setting by its property name.
/// </remarks>
public static class TaskSupervisorConfigurationServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default <see cref="ITaskSupervisor"/> (see <c>AddTaskSupervisor()</c>) with its options bound from
    /// <paramref name="configuration"/>, for example <c>builder.Configuration.GetSection("TaskSupervisor")</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind: <c>ShutdownTimeout</c>, <c>DrainGracePeriod</c>, <c>MaxConcurrency</c>, <c>MaxPending</c>, <c>Name</c>, and a <c>DefaultRestartPolicy</c> section.</param>
    /// <param name="configure">Further configuration in code, applied after the binding; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddTaskSupervisor(this IServiceCollection services, IConfiguration configuration, Action<TaskSupervisorOptions>? configure = null) =>
        AddTaskSupervisor(services, Options.Options.DefaultName, configuration, configure, named: false);

    /// <summary>
    /// Registers a named <see cref="ITaskSupervisor"/> (see <c>AddTaskSupervisor(name)</c>) with its options bound from
    /// <paramref name="configuration"/>, for example <c>builder.Configuration.GetSection("TaskSupervisors:emails")</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The supervisor's name and service key.</param>
    /// <param name="configuration">The section to bind (the same settings as for the default supervisor).</param>
    /// <param name="configure">Further configuration in code, applied after the binding; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="name"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
    public static IServiceCollection AddTaskSupervisor(this IServiceCollection services, string name, IConfiguration configuration, Action<TaskSupervisorOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return AddTaskSupervisor(services, name, configuration, configure, named: true);
    }

    /// <summary>
    /// Registers the host integration (see <c>AddTaskSupervisorHosting()</c>) with its options bound from
    /// <paramref name="configuration"/>, for example <c>builder.Configuration.GetSection("TaskSupervisor:Hosting")</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind: <c>DrainTimeout</c>, <c>CriticalTaskFailure</c> (a name: <c>"StopHost"</c>), <c>CriticalFailureExitCode</c>.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddTaskSupervisorHosting(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddTaskSupervisorHosting();
        services.AddOptions<TaskSupervisorHostingOptions>().Bind(configuration);
        AddPath(services, typeof(TaskSupervisorHostingOptions), Options.Options.DefaultName, configuration);
        return services;
    }

    private static IServiceCollection AddTaskSupervisor(IServiceCollection services, string name, IConfiguration configuration, Action<TaskSupervisorOptions>? configure, bool named)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        _ = named ? services.AddTaskSupervisor(name) : services.AddTaskSupervisor();

        // Binding first, code after: a setting made in code wins over the file, as with any Configure after Bind.
        services.AddOptions<TaskSupervisorOptions>(name).Bind(configuration);
        if (configure is not null)
        {
            services.Configure(name, configure);
        }

        AddPath(services, typeof(TaskSupervisorOptions), name, configuration);
        return services;
    }

    private static void AddPath(IServiceCollection services, Type optionsType, string name, IConfiguration configuration)
    {
        // A section knows its path; a root (the whole IConfiguration) has none, and settings are then named by property.
        if (configuration is IConfigurationSection { Path: { Length: > 0 } path })
        {
            services.AddSingleton(new OptionsConfigurationPath(optionsType, name, path));
        }
    }
}
