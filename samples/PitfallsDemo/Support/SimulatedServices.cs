namespace PitfallsDemo.Support;

/// <summary>Every delay and timeout of the demo, in one place. Short, so that the tour finishes in a second or two.</summary>
internal static class DemoTimings
{
    /// <summary>How long the simulated user lookup takes.</summary>
    public static readonly TimeSpan LookupDelay = TimeSpan.FromMilliseconds(150);

    /// <summary>How long the simulated mail server takes to accept or reject a message.</summary>
    public static readonly TimeSpan SendDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>How often a session monitor wakes up.</summary>
    public static readonly TimeSpan MonitorInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the fixed stop route waits for a monitor to end.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A load job (<c>POST /fixed/jobs</c>) completes or faults after up to twice this, at random; a looping one wakes this often.</summary>
    public static readonly TimeSpan JobDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>The supervisor's drain deadline when the app shuts down.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);
}

/// <summary>A user as the lookup returns it.</summary>
internal sealed record UserProfile(int Id, string Name, string Plan);

/// <summary>A slow user store (a database or another service), simulated with a delay on the injected clock.</summary>
internal sealed class UserDirectory(TimeProvider time)
{
    public async Task<UserProfile> LoadAsync(int id, CancellationToken cancellationToken)
    {
        await Task.Delay(DemoTimings.LookupDelay, time, cancellationToken).ConfigureAwait(false);
        return new UserProfile(id, id == 42 ? "Ada Lovelace" : $"User {id}", "pro");
    }
}

/// <summary>
/// A mail server that rejects addresses without a domain, such as <c>bob@</c>, after a short delay. It counts its own
/// rejections: the throw site is the only witness of an exception that the broken routes lose, and a real app has no such
/// counter.
/// </summary>
internal sealed class Mailer(TimeProvider time)
{
    public SignalingCounter Rejections { get; } = new();

    public async Task SendWelcomeAsync(string address, CancellationToken cancellationToken)
    {
        await Task.Delay(DemoTimings.SendDelay, time, cancellationToken).ConfigureAwait(false);
        int at = address.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == address.Length - 1)
        {
            Rejections.Increment();
            throw new InvalidOperationException($"550 mailbox '{address}' rejected: the address has no domain");
        }
    }
}
