using PitfallsDemo.Support;
using TaskSupervision;

namespace PitfallsDemo.Pitfalls;

/// <summary>What the user-status routes answer.</summary>
internal sealed record UserStatus(int UserId, string Status, UserProfile? User);

/// <summary>
/// Pitfall 1: critical work left unawaited. The response needs the lookup's result, but the broken route starts the
/// lookup in the background and answers before it has finished.
/// </summary>
internal static class UnawaitedWork
{
    private static readonly TaskOptions LookupOptions = new() { Name = "user-lookup" };

    public static RouteGroupBuilder MapUnawaitedWork(this IEndpointRouteBuilder routes)
    {
        RouteGroupBuilder group = routes.MapGroup("").WithTags("1. Critical work left unawaited");

        // Broken: the lookup runs on the thread pool and nobody waits for it. The response leaves with user = null and
        // "processing"; the result arrives later and is thrown away.
        group.MapGet("/broken/users/{id:int}/status", (int id, UserDirectory users) =>
        {
            UserProfile? user = null;
#pragma warning disable TS0001 // deliberately broken: pitfall 1
            _ = Task.Run(async () => user = await users.LoadAsync(id, CancellationToken.None));
#pragma warning restore TS0001
            return new UserStatus(id, user is null ? "processing" : "ready", user);
        });

        // Fixed: the route awaits the supervised lookup's Task<T> before it answers. (A plain `await users.LoadAsync`
        // would be just as right; going through the supervisor also makes the lookup visible in /status, and cancels it
        // when the client goes away or the app shuts down.)
        group.MapGet("/fixed/users/{id:int}/status", async (int id, UserDirectory users, ITaskSupervisor supervisor, CancellationToken requestAborted) =>
        {
            SupervisedTask<UserProfile> lookup = supervisor.Run(ct => users.LoadAsync(id, ct), LookupOptions);
            await using CancellationTokenRegistration cancelOnAbort = requestAborted.Register(lookup.Cancel);
            UserProfile user = await lookup.Task;
            return new UserStatus(id, "ready", user);
        });

        return group;
    }
}
