using System.Runtime.CompilerServices;

namespace TaskSupervision.Internal;

internal static class Guard
{
    /// <summary>Accepts zero, a positive span, or <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public static TimeSpan Timeout(TimeSpan value, [CallerArgumentExpression(nameof(value))] string? paramName = null)
    {
        if (value < TimeSpan.Zero && value != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(paramName, value, "The timeout must be zero, positive, or Timeout.InfiniteTimeSpan.");
        }

        return value;
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
