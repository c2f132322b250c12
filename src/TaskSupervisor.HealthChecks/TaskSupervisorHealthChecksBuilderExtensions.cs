using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TaskSupervision;
using TaskSupervision.HealthChecks;
using TaskSupervision.HealthChecks.Internal;
using TaskSupervision.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the TaskSupervisor health check in an <see cref="IHealthChecksBuilder"/>.</summary>
public static class TaskSupervisorHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of one supervisor: unhealthy when too many of its tasks fault, or one is given up on, within a
    /// sliding window; degraded when a task is older than expected or the pending queue nears its bound. See
    /// <see cref="TaskSupervisorHealthCheckOptions"/> for the thresholds.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name, unique among the application's health checks; also the name of its options.</param>
    /// <param name="supervisorName">The supervisor to watch: <see langword="null"/> for the default one (<c>AddTaskSupervisor()</c>), or the name of a named one (<c>AddTaskSupervisor("emails")</c>).</param>
    /// <param name="configure">Configures the thresholds; may be <see langword="null"/>. Calling this method again with the same <paramref name="name"/> adds the configuration but never a second check.</param>
    /// <param name="failureStatus">The status reported when the check fails; <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter the check by, such as <c>"ready"</c>; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/>, or a non-null <paramref name="supervisorName"/>, is empty or white space.</exception>
    /// <remarks>
    /// <para>Ended tasks are counted by a tracker hooked into the supervisor's <see cref="TaskSupervisorOptions.OnTaskEnded"/>
    /// with a post-configuration, so it is added after (and survives) any <c>o.OnTaskEnded = ...</c> of the application's
    /// own configuration. It counts the tasks that end after the supervisor is created.</para>
    /// <para>The result's data holds <c>ended</c>, <c>faulted</c> (timed-out included) and <c>gaveUp</c> within the window,
    /// <c>running</c> and <c>pending</c> now, <c>maxPending</c> when the queue is bounded, and, when
    /// <see cref="TaskSupervisorHealthCheckOptions.MaxTaskAge"/> is set, <c>overdue</c> (a count) and <c>overdueTasks</c>
    /// (the keys of at most 10 overdue tasks; the name or <c>#id</c> of unkeyed ones).</para>
    /// <para>A supervisor that is not registered makes the check report <paramref name="failureStatus"/> and log
    /// <c>SupervisorNotRegistered</c> (event 200).</para>
    /// </remarks>
    public static IHealthChecksBuilder AddTaskSupervisor(
        this IHealthChecksBuilder builder,
        string name = HealthCheckConstants.DefaultCheckName,
        string? supervisorName = null,
        Action<TaskSupervisorHealthCheckOptions>? configure = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (supervisorName is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(supervisorName);
        }

        IServiceCollection services = builder.Services;
        OptionsBuilder<TaskSupervisorHealthCheckOptions> options = services.AddOptions<TaskSupervisorHealthCheckOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaskSupervisorHealthCheckOptions>, TaskSupervisorHealthCheckOptionsValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // The check's tracker, keyed by the check's name, doubles as the mark that the check is registered: a second call
        // must neither add a second check (the health check service rejects duplicate names) nor hook a second tracker
        // (each outcome would then be counted twice).
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(OutcomeWindow) && name.Equals(d.ServiceKey)))
        {
            return builder;
        }

        services.AddKeyedSingleton(name, static (provider, key) => new OutcomeWindow(
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetRequiredService<IOptionsMonitor<TaskSupervisorHealthCheckOptions>>().Get((string)key!).Window));

        // The supervisor reads its options once, when it is created, so the tracker is created and hooked with it.
        // PostConfigure rather than Configure: it runs after every Configure, so an application's `o.OnTaskEnded = ...`
        // (an assignment, not +=) registered after this call cannot drop the hook.
        services.AddOptions<TaskSupervisorOptions>(supervisorName ?? Options.Options.DefaultName)
            .PostConfigure<IServiceProvider>((o, provider) => o.OnTaskEnded += provider.GetRequiredKeyedService<OutcomeWindow>(name).Record);

        builder.Add(new HealthCheckRegistration(name, provider => Create(provider, name, supervisorName), failureStatus, tags));
        return builder;
    }

    /// <summary>
    /// Adds the health check of one supervisor (see the other overload) with its thresholds bound from
    /// <paramref name="configuration"/>, for example <c>builder.Configuration.GetSection("TaskSupervisor:HealthCheck")</c>;
    /// every bad threshold is reported at host start in one <see cref="OptionsValidationException"/> naming its
    /// configuration path.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configuration">The section to bind: <c>Window</c>, <c>UnhealthyFaultedShare</c>, <c>MinimumEnded</c>, <c>UnhealthyFaultedCount</c>, <c>UnhealthyOnGaveUp</c>, <c>MaxTaskAge</c>, <c>DegradedPendingShare</c>.</param>
    /// <param name="name">The check's name, unique among the application's health checks; also the name of its options.</param>
    /// <param name="supervisorName">The supervisor to watch: <see langword="null"/> for the default one, or the name of a named one.</param>
    /// <param name="failureStatus">The status reported when the check fails; <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter the check by, such as <c>"ready"</c>; may be <see langword="null"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/>, <paramref name="configuration"/> or <paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/>, or a non-null <paramref name="supervisorName"/>, is empty or white space.</exception>
    public static IHealthChecksBuilder AddTaskSupervisor(
        this IHealthChecksBuilder builder,
        IConfiguration configuration,
        string name = HealthCheckConstants.DefaultCheckName,
        string? supervisorName = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        builder.AddTaskSupervisor(name, supervisorName, configure: null, failureStatus, tags);
        builder.Services.AddOptions<TaskSupervisorHealthCheckOptions>(name).Bind(configuration);
        if (configuration is IConfigurationSection { Path: { Length: > 0 } path })
        {
            builder.Services.AddSingleton(new OptionsConfigurationPath(typeof(TaskSupervisorHealthCheckOptions), name, path));
        }

        return builder;
    }

    private static TaskSupervisorHealthCheck Create(IServiceProvider provider, string name, string? supervisorName)
    {
        ITaskSupervisor? supervisor = supervisorName is null
            ? provider.GetService<ITaskSupervisor>()
            : provider.GetKeyedService<ITaskSupervisor>(supervisorName);

        // Resolving the supervisor created its options (and hooked the tracker); MaxPending is read from the same cache.
        int? maxPending = supervisor is null
            ? null
            : provider.GetRequiredService<IOptionsMonitor<TaskSupervisorOptions>>().Get(supervisorName ?? Options.Options.DefaultName).MaxPending;
        ILogger logger = provider.GetService<ILoggerFactory>()?.CreateLogger("TaskSupervision.HealthChecks") ?? NullLogger.Instance;
        return new TaskSupervisorHealthCheck(
            name,
            supervisorName ?? "default",
            supervisor,
            provider.GetRequiredKeyedService<OutcomeWindow>(name),
            provider.GetRequiredService<IOptionsMonitor<TaskSupervisorHealthCheckOptions>>().Get(name),
            maxPending,
            logger);
    }
}
