namespace TaskSupervision.AspNetCore.Internal;

/// <summary>Every default of the dashboard, in one place. The docs of each option name the value it takes from here.</summary>
internal static class DashboardConstants
{
    public static readonly TimeSpan DefaultUpdateInterval = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan DefaultOutcomeWindow = TimeSpan.FromMinutes(15);

    public const int DefaultRecentFailureCapacity = 50;

    public static readonly TimeSpan DefaultCancelTimeout = TimeSpan.FromSeconds(5);

    public const int DefaultPageSize = 50;

    public const int DefaultMaxPageSize = 500;

    /// <summary>An exception message kept in the failure ring is cut to this many characters, so that the ring's memory is bounded.</summary>
    public const int MaxMessageLength = 1_000;

    /// <summary>A stack trace kept in the failure ring (only when the application opts in) is cut to this many characters.</summary>
    public const int MaxStackTraceLength = 8_000;

    /// <summary>The largest failure ring an application may configure per supervisor.</summary>
    public const int MaxRecentFailureCapacity = 10_000;

    /// <summary>What the browser retries after, in milliseconds, when the event stream drops (the SSE <c>retry</c> field).</summary>
    public const int ReconnectMilliseconds = 2_000;

    /// <summary>
    /// The Content-Security-Policy of every dashboard response: scripts, styles and connections only from the dashboard's
    /// own origin, no inline script or style, no frames, no plugins, no form posts.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}
