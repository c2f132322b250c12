namespace TaskSupervision.HealthChecks.Internal;

/// <summary>Every default of the health check, in one place. The docs of each option name the value it takes from here.</summary>
internal static class HealthCheckConstants
{
    /// <summary>The name the check is registered under when none is given.</summary>
    public const string DefaultCheckName = "task-supervisor";

    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(5);

    public const double DefaultUnhealthyFaultedShare = 0.5;

    public const int DefaultMinimumEnded = 10;

    public const bool DefaultUnhealthyOnGaveUp = true;

    public const double DefaultDegradedPendingShare = 0.8;

    /// <summary>At most this many overdue task keys are listed in the result's data.</summary>
    public const int MaxOverdueTasksInData = 10;
}

/// <summary>The keys of <c>HealthCheckResult.Data</c>; documented on the registration method and in the docs.</summary>
internal static class HealthCheckDataKeys
{
    public const string Ended = "ended";
    public const string Faulted = "faulted";
    public const string GaveUp = "gaveUp";
    public const string Running = "running";
    public const string Pending = "pending";
    public const string MaxPending = "maxPending";
    public const string Overdue = "overdue";
    public const string OverdueTasks = "overdueTasks";
}
