using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSupervision;
using TaskSupervision.Hangfire;
using TaskSupervision.Hangfire.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="DurableWork"/> in an <see cref="IServiceCollection"/>.</summary>
public static class DurableWorkServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DurableWork"/> as a singleton over the Hangfire <see cref="JobStorage"/> in the container
    /// (registered by Hangfire's <c>AddHangfire</c>) and the default <see cref="ITaskSupervisor"/> (or the one named by
    /// <see cref="DurableWorkOptions.SupervisorName"/>), and adds to Hangfire's global filters the filter that lets work
    /// run by a Hangfire server learn its delivery (<see cref="DurableWorkContext"/>). Call it in every process that runs
    /// a Hangfire server for durable work.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options; may be <see langword="null"/>. A second call adds the configuration but never a second instance.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>The options are validated when the host starts (and when <see cref="DurableWork"/> is first resolved).</remarks>
    public static IServiceCollection AddDurableWork(this IServiceCollection services, Action<DurableWorkOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<DurableWorkOptions> builder = services.AddOptions<DurableWorkOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableWorkOptions>, DurableWorkOptionsValidator>());
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddSingleton(static provider =>
        {
            DurableWorkOptions options = provider.GetRequiredService<IOptions<DurableWorkOptions>>().Value;
            JobStorage storage = provider.GetService<JobStorage>()
                ?? throw new InvalidOperationException("Durable work needs Hangfire's storage in the container: call services.AddHangfire(c => c.UseSQLiteStorage(...)) (or another storage) before resolving DurableWork.");
            ITaskSupervisor supervisor = options.SupervisorName is null
                ? provider.GetRequiredService<ITaskSupervisor>()
                : provider.GetRequiredKeyedService<ITaskSupervisor>(options.SupervisorName);
            return new DurableWork(
                storage,
                provider.GetService<IJobFilterProvider>() ?? JobFilterProviders.Providers,
                supervisor,
                provider.GetRequiredService<IServiceScopeFactory>(),
                provider.GetService<IServiceProviderIsService>(),
                options,
                provider.GetService<ILoggerFactory>()?.CreateLogger<DurableWork>(),
                provider.GetService<TimeProvider>());
        });
        DurableJobFilter.EnsureRegistered();
        return services;
    }
}

/// <summary>Fails options validation, at host start, with every problem of a <see cref="DurableWorkOptions"/> listed.</summary>
internal sealed class DurableWorkOptionsValidator : IValidateOptions<DurableWorkOptions>
{
    public ValidateOptionsResult Validate(string? name, DurableWorkOptions options)
    {
        List<string> problems = options.GetProblems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
