using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TaskSupervision;
using TaskSupervision.AspNetCore;
using TaskSupervision.AspNetCore.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the TaskSupervisor dashboard's services in an <see cref="IServiceCollection"/>.</summary>
public static class TaskSupervisorDashboardServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the dashboard needs: its options, and a recorder hooked into every supervisor the container creates
    /// (default and named), which counts outcomes over a recent window and keeps a bounded ring of recent failures.
    /// Map the dashboard with <c>app.MapTaskSupervisorDashboard("/tasks")</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the dashboard; may be <see langword="null"/>. Calling this method again adds the configuration but registers nothing twice.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>The recorder is added to <see cref="TaskSupervisorOptions.OnTaskEnded"/> by a post-configuration, so it survives an
    /// application's own <c>o.OnTaskEnded = ...</c>. It runs only when a task ends and adds nothing to the start path; its
    /// memory is constant (a ring of 60 buckets and <see cref="TaskSupervisorDashboardOptions.RecentFailureCapacity"/> failures
    /// per supervisor). Without this call, the dashboard costs nothing at all.</para>
    /// <para>The options are validated when the application starts. Antiforgery services are added (they are idempotent);
    /// with <see cref="TaskSupervisorDashboardOptions.EnableCancel"/>, the application must also add authorization with the
    /// policy named by <see cref="TaskSupervisorDashboardOptions.CancelPolicy"/>.</para>
    /// </remarks>
    public static IServiceCollection AddTaskSupervisorDashboard(this IServiceCollection services, Action<TaskSupervisorDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<TaskSupervisorDashboardOptions> options = services.AddOptions<TaskSupervisorDashboardOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaskSupervisorDashboardOptions>, DashboardOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<TaskSupervisorOptions>, DashboardRecorderHook>());
        services.TryAddSingleton(static provider => new DashboardRecorders(
            provider.GetRequiredService<IOptions<TaskSupervisorDashboardOptions>>(),
            provider.GetService<TimeProvider>()));
        services.TryAddSingleton(static provider => new DashboardReader(
            provider,
            provider.GetRequiredService<DashboardRecorders>(),
            provider.GetRequiredService<IOptions<TaskSupervisorDashboardOptions>>(),
            provider.GetService<TimeProvider>()));
        services.AddAntiforgery();
        return services;
    }
}
