namespace TaskSupervision.Internal;

/// <summary>Every default of the library, in one place. The docs of each option name the value it takes from here.</summary>
internal static class TaskSupervisorConstants
{
    /// <summary>Like <c>HostOptions.ShutdownTimeout</c>.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultDrainGracePeriod = TimeSpan.Zero;

    /// <summary>The name of a supervisor registered without a name, or created without one.</summary>
    public const string DefaultSupervisorName = "default";
}
