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
/// </remarks>
public sealed class RestartPolicy
{
    private readonly TimeSpan _initialDelay = RestartPolicyConstants.DefaultInitialDelay;
    private readonly TimeSpan _maxDelay = RestartPolicyConstants.DefaultMaxDelay;
    private readonly double _multiplier = RestartPolicyConstants.DefaultMultiplier;
    private readonly double _jitter = RestartPolicyConstants.DefaultJitter;
    private readonly int _maxRestarts = RestartPolicyConstants.DefaultMaxRestarts;
    private readonly TimeSpan _window = RestartPolicyConstants.DefaultWindow;

    /// <summary>When to restart.</summary>
    /// <value>Defaults to <see cref="RestartMode.OnFailure"/>.</value>
    public RestartMode Mode { get; init; } = RestartMode.OnFailure;

    /// <summary>The delay before the first restart.</summary>
    /// <value>Defaults to 1 second.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan InitialDelay
    {
        get => _initialDelay;
        init => _initialDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(InitialDelay), value, "The delay must not be negative.");
    }

    /// <summary>The longest delay between restarts. Must not be less than <see cref="InitialDelay"/>.</summary>
    /// <value>Defaults to 30 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init => _maxDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxDelay), value, "The delay must not be negative.");
    }

    /// <summary>The factor between one delay and the next.</summary>
    /// <value>Defaults to 2.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1, infinite or NaN.</exception>
    public double Multiplier
    {
        get => _multiplier;
        init => _multiplier = value >= 1 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(Multiplier), value, "The multiplier must be a finite number of at least 1.");
    }

    /// <summary>The largest share of a delay removed at random, so that restarts of many tasks spread out.</summary>
    /// <value>Defaults to 0.2. 0 means no jitter.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [0, 1].</exception>
    public double Jitter
    {
        get => _jitter;
        init => _jitter = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Jitter), value, "The jitter must be between 0 and 1.");
    }

    /// <summary>The most restarts allowed within <see cref="Window"/>; one more and the supervisor gives up.</summary>
    /// <value>Defaults to 5.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxRestarts
    {
        get => _maxRestarts;
        init => _maxRestarts = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxRestarts), value, "At least one restart must be allowed; use RestartMode.Never for none.");
    }

    /// <summary>The sliding window in which restarts are counted.</summary>
    /// <value>Defaults to 1 minute.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan Window
    {
        get => _window;
        init => _window = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Window), value, "The window must be positive.");
    }

    /// <summary>Checks the rules that involve two properties, which setters cannot check alone.</summary>
    internal RestartPolicy Validated()
    {
        if (_maxDelay < _initialDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), _maxDelay, $"MaxDelay must not be less than InitialDelay ({_initialDelay}).");
        }

        return this;
    }

    /// <summary>The delay before the <paramref name="restart"/>-th restart in the window (1-based).</summary>
    internal TimeSpan GetDelay(int restart, double random)
    {
        double ticks = _initialDelay.Ticks * Math.Pow(_multiplier, Math.Max(0, restart - 1));
        ticks = Math.Min(ticks, _maxDelay.Ticks);
        ticks *= 1 - (_jitter * random);
        return TimeSpan.FromTicks((long)ticks);
    }
}
