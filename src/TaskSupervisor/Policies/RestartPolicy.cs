using TaskSupervision.Internal;

namespace TaskSupervision;

/// <summary>
/// Restarts a task that ends (see <see cref="Mode"/>) with exponential backoff, and gives up when it restarts more than
/// <see cref="MaxRestarts"/> times within <see cref="Window"/>, as an Erlang/OTP supervisor's intensity and period.
/// </summary>
/// <remarks>
/// <para>Immutable once built: share one instance. Restarts keep the task's key and handle; the handle's
/// <see cref="SupervisedTask.Task"/> completes only with the final outcome. Between attempts the task is
/// <see cref="SupervisedTaskStatus.Pending"/>. Cancelling the task, or draining the supervisor, during a backoff delay
/// ends it at once as canceled.</para>
/// <para>The delay before restart <c>n</c> (1-based, counting the restarts within the window) is
/// <c>min(MaxDelay, InitialDelay * Multiplier^(n-1))</c>, then reduced by a random share of up to <see cref="Jitter"/>,
/// so it never exceeds <see cref="MaxDelay"/>.</para>
/// <para>Setting a property never throws, so that a policy binds from configuration
/// (<see cref="TaskSupervisorOptions.DefaultRestartPolicy"/>); the rules are checked together, where the policy is used:
/// by options validation for the supervisor's default, and with <see cref="ArgumentException"/> where
/// <see cref="TaskOptions.Restart"/> is set.</para>
/// </remarks>
public sealed class RestartPolicy
{
    /// <summary>When to restart.</summary>
    /// <value>Defaults to <see cref="RestartMode.OnFailure"/>.</value>
    public RestartMode Mode { get; init; } = RestartMode.OnFailure;

    /// <summary>The delay before the first restart.</summary>
    /// <value>Defaults to 1 second. Zero, or positive up to <see cref="TaskSupervisorOptions.MaxTimeout"/>.</value>
    public TimeSpan InitialDelay { get; init; } = RestartPolicyConstants.DefaultInitialDelay;

    /// <summary>The longest delay between restarts. Must not be less than <see cref="InitialDelay"/>.</summary>
    /// <value>Defaults to 30 seconds. Zero, or positive up to <see cref="TaskSupervisorOptions.MaxTimeout"/>.</value>
    public TimeSpan MaxDelay { get; init; } = RestartPolicyConstants.DefaultMaxDelay;

    /// <summary>The factor between one delay and the next.</summary>
    /// <value>Defaults to 2. A finite number of at least 1.</value>
    public double Multiplier { get; init; } = RestartPolicyConstants.DefaultMultiplier;

    /// <summary>The largest share of a delay removed at random, so that restarts of many tasks spread out.</summary>
    /// <value>Defaults to 0.2. 0 means no jitter. From 0 to 1.</value>
    public double Jitter { get; init; } = RestartPolicyConstants.DefaultJitter;

    /// <summary>The most restarts allowed within <see cref="Window"/>; one more and the supervisor gives up.</summary>
    /// <value>Defaults to 5. At least 1 (use <see cref="RestartMode.Never"/> for none).</value>
    public int MaxRestarts { get; init; } = RestartPolicyConstants.DefaultMaxRestarts;

    /// <summary>The sliding window in which restarts are counted.</summary>
    /// <value>Defaults to 1 minute. Positive.</value>
    public TimeSpan Window { get; init; } = RestartPolicyConstants.DefaultWindow;

    /// <summary>Every problem with this policy, each naming its setting under <paramref name="path"/>.</summary>
    internal IReadOnlyList<string> GetProblems(string? path = null, string separator = ":")
    {
        var problems = new OptionsProblems(path, separator);
        problems.Timeout(nameof(InitialDelay), InitialDelay, allowInfinite: false);
        problems.Timeout(nameof(MaxDelay), MaxDelay, allowInfinite: false);
        if (MaxDelay < InitialDelay)
        {
            problems.Add(nameof(MaxDelay), MaxDelay, $"must not be less than {problems.Name(nameof(InitialDelay))} ({InitialDelay}).");
        }

        if (!(Multiplier >= 1 && double.IsFinite(Multiplier)))
        {
            problems.Add(nameof(Multiplier), Multiplier, "must be a finite number of at least 1.");
        }

        if (Jitter is not (>= 0 and <= 1))
        {
            problems.Add(nameof(Jitter), Jitter, "must be from 0 to 1.");
        }

        if (MaxRestarts < 1)
        {
            problems.Add(nameof(MaxRestarts), MaxRestarts, "must be at least 1; use Mode = Never for no restart.");
        }

        if (Window <= TimeSpan.Zero)
        {
            problems.Add(nameof(Window), Window, "must be positive.");
        }

        if (!Enum.IsDefined(Mode))
        {
            problems.Add(nameof(Mode), Mode, "must be Never, OnFailure or Always.");
        }

        return problems.Problems;
    }

    /// <summary>Returns this policy if it is valid; for a policy given in code (<see cref="TaskOptions.Restart"/>), at the call.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The policy breaks a rule; the message lists every problem (<c>RestartPolicy.MaxDelay = ...</c>).</exception>
    internal RestartPolicy Validated(string paramName)
    {
        IReadOnlyList<string> problems = GetProblems(nameof(RestartPolicy), ".");
        return problems.Count == 0 ? this : throw new ArgumentOutOfRangeException(paramName, "The restart policy is invalid: " + string.Join(" ", problems));
    }

    /// <summary>The delay before the <paramref name="restart"/>-th restart in the window (1-based).</summary>
    internal TimeSpan GetDelay(int restart, double random)
    {
        double ticks = InitialDelay.Ticks * Math.Pow(Multiplier, Math.Max(0, restart - 1));
        ticks = Math.Min(ticks, MaxDelay.Ticks);
        ticks *= 1 - (Jitter * random);
        return TimeSpan.FromTicks((long)ticks);
    }
}
