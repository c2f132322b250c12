namespace TaskSupervision.Internal;

/// <summary>Every default of the library, in one place. The docs of each option name the value it takes from here.</summary>
internal static class TaskSupervisorConstants
{
    /// <summary>Like <c>HostOptions.ShutdownTimeout</c>.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultDrainGracePeriod = TimeSpan.Zero;

    /// <summary>The name of a supervisor registered without a name, or created without one.</summary>
    public const string DefaultSupervisorName = "default";

    /// <summary>The largest page of <see cref="TaskQuery"/>: a page is copied, so this bounds one call's memory.</summary>
    public const int MaxQueryTake = 1000;

    public const int DefaultQueryTake = 100;
}

/// <summary>The defaults of <see cref="RestartPolicy"/>.</summary>
internal static class RestartPolicyConstants
{
    public static readonly TimeSpan DefaultInitialDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(30);

    public const double DefaultMultiplier = 2;

    public const double DefaultJitter = 0.2;

    public const int DefaultMaxRestarts = 5;

    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(1);
}
