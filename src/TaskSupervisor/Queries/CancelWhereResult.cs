using System.Runtime.InteropServices;

namespace TaskSupervision;

/// <summary>What <see cref="ITaskSupervisor.CancelWhereAsync"/> did: how many tasks matched, and how they ended.</summary>
/// <remarks>A readonly struct of counts, so that counts can be added later without breaking anyone.</remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct CancelWhereResult : IEquatable<CancelWhereResult>
{
    /// <summary>Creates a result.</summary>
    /// <param name="matched">The number of tasks whose key matched, and which were asked to cancel.</param>
    /// <param name="ranToCompletion">Of those, the number that finished successfully before they observed the cancellation.</param>
    /// <param name="canceled">Of those, the number that ended canceled.</param>
    /// <param name="faulted">Of those, the number that ended faulted or timed out.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or the ended counts add up to more than <paramref name="matched"/>.</exception>
    public CancelWhereResult(int matched, int ranToCompletion, int canceled, int faulted)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ranToCompletion);
        ArgumentOutOfRangeException.ThrowIfNegative(canceled);
        ArgumentOutOfRangeException.ThrowIfNegative(faulted);
        ArgumentOutOfRangeException.ThrowIfLessThan(matched, ranToCompletion + canceled + faulted);
        Matched = matched;
        RanToCompletion = ranToCompletion;
        Canceled = canceled;
        Faulted = faulted;
    }

    /// <summary>The number of tracked keyed tasks whose key matched: each was asked to cancel.</summary>
    public int Matched { get; }

    /// <summary>The number of matched tasks that finished successfully before they observed the cancellation.</summary>
    public int RanToCompletion { get; }

    /// <summary>The number of matched tasks that ended canceled (a pending task that never ran counts here).</summary>
    public int Canceled { get; }

    /// <summary>The number of matched tasks that ended faulted or timed out (each fault was logged and reported as usual).</summary>
    public int Faulted { get; }

    /// <summary>The number of matched tasks that have ended, their cleanup and callbacks included.</summary>
    public int Ended => RanToCompletion + Canceled + Faulted;

    /// <summary>
    /// The number of matched tasks still running when the timeout elapsed: they ignore their token or are slow to stop.
    /// They stay tracked and keep their keys.
    /// </summary>
    public int StillRunning => Matched - Ended;

    /// <summary>Whether every matched task has ended.</summary>
    public bool IsComplete => StillRunning == 0;

    /// <summary>Compares two results.</summary>
    /// <param name="left">The first result.</param>
    /// <param name="right">The second result.</param>
    /// <returns>Whether every count is equal.</returns>
    public static bool operator ==(CancelWhereResult left, CancelWhereResult right) => left.Equals(right);

    /// <summary>Compares two results.</summary>
    /// <param name="left">The first result.</param>
    /// <param name="right">The second result.</param>
    /// <returns>Whether a count differs.</returns>
    public static bool operator !=(CancelWhereResult left, CancelWhereResult right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(CancelWhereResult other) =>
        Matched == other.Matched && RanToCompletion == other.RanToCompletion && Canceled == other.Canceled && Faulted == other.Faulted;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is CancelWhereResult other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Matched, RanToCompletion, Canceled, Faulted);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Matched} matched: {RanToCompletion} completed, {Canceled} canceled, {Faulted} faulted, {StillRunning} still running";
}
