using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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
    /// The supervisor starts from what the application configured for its default supervisor through the options pipeline
    /// (<c>AddTaskSupervisor(o =&gt; ...)</c>, configuration binding: callbacks, limits, restart policy), so the application's
    /// own <c>OnTaskEnded</c> hooks still run, and the recorder is added after them; <paramref name="configure"/> runs last.
    /// It takes the container's <see cref="TimeProvider"/> if the options name none and one is registered (a
    /// <c>FakeTimeProvider</c>), its logger factory and its scope factory. Named supervisors
    /// (<c>AddTaskSupervisor("emails")</c>) are left as they are.
    /// The container disposes the test supervisor, which then fails for a task that failed and was not taken.
    /// </remarks>
    public static IServiceCollection AddTestSupervisor(this IServiceCollection services, Action<TaskSupervisorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.RemoveAll<ITaskSupervisor>();
        services.RemoveAll<TestSupervisor>();
        services.AddSingleton(provider => new TestSupervisor(TestSupervisor.Configured(ApplicationOptions(provider), configure), provider));
        services.AddSingleton<ITaskSupervisor>(static provider => provider.GetRequiredService<TestSupervisor>().Supervisor);
        return services;
    }

    /// <summary>
    /// A fresh instance of the default supervisor's options, as the application's pipeline builds them (an options factory
    /// creates one per call, so adding the recorder changes nothing anyone else holds), named <c>"test"</c> unless the
    /// application named it.
    /// </summary>
    private static TaskSupervisorOptions ApplicationOptions(IServiceProvider provider)
    {
        TaskSupervisorOptions options = provider.GetService<IOptionsFactory<TaskSupervisorOptions>>()?.Create(Options.DefaultName)
            ?? new TaskSupervisorOptions();
        options.Name ??= "test";
        options.TimeProvider ??= provider.GetService<TimeProvider>();
        return options;
    }
}
