using System.Net;
using Microsoft.AspNetCore.Authorization;

namespace PitfallsDemo.Support;

/// <summary>
/// The demo's dashboard policy. FOR THE DEMO ONLY: it lets any request from this machine cancel tasks, so that the tour
/// and a local browser can try the cancel buttons. It checks where a request comes from, not who sent it; a real app
/// names a policy of its own (for example an "ops" role) instead.
/// </summary>
internal static class DemoDashboard
{
    public const string LoopbackOnlyPolicy = "demo-loopback-only";

    public static void LoopbackOnly(AuthorizationPolicyBuilder policy) =>
        policy.RequireAssertion(static context =>
            context.Resource is HttpContext http && http.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address));
}
