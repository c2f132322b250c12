using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TaskSupervision.Testing;

/// <summary>Puts a <see cref="TestSupervisor"/> in place of the application's default <see cref="ITaskSupervisor"/>.</summary>
public static class TestSupervisorServiceCollectionExtensions
{
    /// <summary>
    /// Replaces the default <see cref="ITaskSupervisor"/> registration with a <see cref="TestSupervisor"/>'s supervisor, and
    /// registers the <see cref="TestSupervisor"/> itself, to resolve in the test. For a <c>WebApplicationFactory</c>:
    /// <c>builder.ConfigureTestServices(services =&gt; services.AddTestSupervisor())</c>, then
    /// <c>factory.Services.GetRequiredService&lt;TestSupervisor&gt;()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Further settings of the supervisor; may be <see langword="null"/>.</param>
    /// <returns>The service collection, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// The supervisor takes the container's <see cref="TimeProvider"/> if one is registered (a <c>FakeTimeProvider</c>), its
    /// logger factory and its scope factory. Named supervisors (<c>AddTaskSupervisor("emails")</c>) are left as they are.
    /// The container disposes the test supervisor, which then fails for a task that failed and was not taken.
    /// </remarks>
    public static IServiceCollection AddTestSupervisor(this IServiceCollection services, Action<TaskSupervisorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.RemoveAll<ITaskSupervisor>();
        services.RemoveAll<TestSupervisor>();
        services.AddSingleton(provider => new TestSupervisor(provider.GetService<TimeProvider>(), configure, provider));
        services.AddSingleton<ITaskSupervisor>(static provider => provider.GetRequiredService<TestSupervisor>().Supervisor);
        return services;
    }
}
