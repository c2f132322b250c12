using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskSupervision.AspNetCore;
using TaskSupervision.AspNetCore.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the TaskSupervisor dashboard in an application's endpoints.</summary>
public static class TaskSupervisorDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the dashboard under <paramref name="pattern"/>: the page at <c>{pattern}/</c>, its embedded assets, the JSON API
    /// under <c>{pattern}/api/</c> and the live event stream at <c>{pattern}/api/events</c>.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The route prefix of the dashboard, such as <c>"/tasks"</c>.</param>
    /// <returns>
    /// The builder of the dashboard's route group, so that conventions reach every endpoint of it:
    /// <c>app.MapTaskSupervisorDashboard("/tasks").RequireAuthorization("ops")</c> protects the page, the assets, the API and
    /// the stream alike.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> or <paramref name="pattern"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><c>AddTaskSupervisorDashboard()</c> was not called on the services.</exception>
    /// <remarks>
    /// <para>The dashboard is read-only unless <see cref="TaskSupervisorDashboardOptions.EnableCancel"/> is set. Cancel actions
    /// then also require the policy named by <see cref="TaskSupervisorDashboardOptions.CancelPolicy"/> and a valid antiforgery
    /// token, and every cancel is logged with the user's name (event 300, 301).</para>
    /// <para>Every response carries a strict Content-Security-Policy (no inline script or style, nothing from another
    /// origin, no framing). The page shows keys, names and messages as text, never as markup.</para>
    /// <para>The dashboard is anonymous unless the application applies a policy to the returned builder: do, outside local
    /// development.</para>
    /// </remarks>
    public static IEndpointConventionBuilder MapTaskSupervisorDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/tasks")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        if (endpoints.ServiceProvider.GetService<DashboardReader>() is null)
        {
            throw new InvalidOperationException(
                "The TaskSupervisor dashboard's services are not registered: call services.AddTaskSupervisorDashboard() before mapping it.");
        }

        TaskSupervisorDashboardOptions options = endpoints.ServiceProvider.GetRequiredService<IOptions<TaskSupervisorDashboardOptions>>().Value;
        return DashboardEndpoints.Map(endpoints, pattern, options);
    }
}
