namespace TaskSupervision.Hosting.Internal;

/// <summary>Every default of the host integration, in one place. The docs of each option name the value it takes from here.</summary>
internal static class HostingConstants
{
    /// <summary>
    /// The share of <c>HostOptions.ShutdownTimeout</c> left to the rest of shutdown (other hosted services, logging
    /// flush) when the drain timeout is derived from it.
    /// </summary>
    public const double ShutdownMarginShare = 0.1;

    /// <summary>The most that is kept back from <c>HostOptions.ShutdownTimeout</c>, however long it is.</summary>
    public static readonly TimeSpan MaxShutdownMargin = TimeSpan.FromSeconds(2);

    public const CriticalTaskFailureBehavior DefaultCriticalTaskFailure = CriticalTaskFailureBehavior.LogOnly;

    /// <summary>Like an unhandled exception in a <c>BackgroundService</c> with <c>BackgroundServiceExceptionBehavior.StopHost</c>.</summary>
    public const int DefaultCriticalFailureExitCode = 1;
}
