using System.Runtime.CompilerServices;

namespace TaskSupervision.Internal;

internal static class Guard
{
    /// <summary>
    /// The longest finite timeout or delay the API accepts: <see cref="uint.MaxValue"/> - 1 milliseconds (about 49.7
    /// days), the limit of .NET's timers and of <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>.
    /// </summary>
    /// <remarks>
    /// The one rule for every timeout in the API: zero, a positive span up to this limit, or
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> where waiting forever is meaningful. Anything else is
    /// rejected where it is given (a method argument at the call; an options value by options validation), so that no
    /// accepted value can fail later on a thread-pool thread.
    /// </remarks>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>Whether <paramref name="value"/> is zero, positive up to <see cref="MaxTimeout"/>, or (if allowed) infinite.</summary>
    public static bool IsValidTimeout(TimeSpan value, bool allowInfinite = true) =>
        (value >= TimeSpan.Zero && value <= MaxTimeout) || (allowInfinite && value == System.Threading.Timeout.InfiniteTimeSpan);

    /// <summary>Accepts zero, a positive span up to <see cref="MaxTimeout"/>, or <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public static TimeSpan Timeout(TimeSpan value, [CallerArgumentExpression(nameof(value))] string? paramName = null)
    {
        if (!IsValidTimeout(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"The timeout must be zero, positive up to {MaxTimeout} (the limit of .NET timers), or Timeout.InfiniteTimeSpan.");
        }

        return value;
    }

    /// <summary>
    /// The last-resort check of <see cref="TaskOptions.Timeout"/> at a start: positive up to <see cref="MaxTimeout"/>;
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> means no timeout.
    /// </summary>
    /// <returns>The timeout to arm, or <see langword="null"/> for none.</returns>
    public static TimeSpan? TaskTimeout(TimeSpan? timeout, string paramName)
    {
        if (timeout is not TimeSpan value || value == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        if (value <= TimeSpan.Zero || value > MaxTimeout)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"TaskOptions.Timeout must be positive up to {MaxTimeout} (the limit of .NET timers), Timeout.InfiniteTimeSpan or null.");
        }

        return value;
    }

    /// <summary>The last-resort check of a restart policy's delays at a start: no backoff may exceed what a timer takes.</summary>
    public static void RestartDelays(RestartPolicy policy, string paramName)
    {
        if (policy.InitialDelay < TimeSpan.Zero || policy.InitialDelay > MaxTimeout)
        {
            throw new ArgumentOutOfRangeException(paramName, policy.InitialDelay, $"RestartPolicy.InitialDelay must be zero or positive up to {MaxTimeout} (the limit of .NET timers).");
        }

        if (policy.MaxDelay < TimeSpan.Zero || policy.MaxDelay > MaxTimeout)
        {
            throw new ArgumentOutOfRangeException(paramName, policy.MaxDelay, $"RestartPolicy.MaxDelay must be zero or positive up to {MaxTimeout} (the limit of .NET timers).");
        }
    }

    /// <summary>Rejects a <see cref="KeyConflictBehavior"/> value that is not defined, instead of treating it as one that is.</summary>
    public static void Behavior(KeyConflictBehavior behavior, string paramName)
    {
        if ((uint)behavior > (uint)KeyConflictBehavior.Enqueue)
        {
            throw new ArgumentOutOfRangeException(paramName, behavior, "TaskOptions.IfKeyRunning is not a defined KeyConflictBehavior.");
        }
    }

    /// <summary>
    /// Rejects a <see cref="TaskOptions.IfKeyRunning"/> that cannot apply: on an unkeyed start there is no key to conflict,
    /// and <c>TryRun</c> decides a conflict itself (it returns the holder). One comparison, and none without options.
    /// </summary>
    public static void NoConflictBehavior(TaskOptions? options, string method)
    {
        if (options is not null && options.IfKeyRunning != KeyConflictBehavior.Reject)
        {
            throw new ArgumentException(
                $"TaskOptions.IfKeyRunning is {options.IfKeyRunning}, but {method} has no key conflict to apply it to: " +
                "it applies only to a keyed Run or RunAsync. Leave it at its default (Reject) here.",
                nameof(options));
        }
    }

    public static void Key(string key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException("The key must not be empty or white space.", paramName);
        }
    }
}
