using System.Diagnostics;

namespace PitfallsDemo;

/// <summary>
/// Part of the tour: shows the async void variant of pitfall 2 in a separate copy of the app, because what it does to the
/// process it runs in is the point: an exception escaping an async void method takes the whole server down.
/// </summary>
internal static class AsyncVoidCrash
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    /// <summary>Starts the app in a child process, registers bob@ through the async void route, and describes how the process ended.</summary>
    public static async Task<(bool Died, string Evidence)> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        ProcessStartInfo start = new(host)
        {
            ArgumentList = { typeof(AsyncVoidCrash).Assembly.Location, "--urls=http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DOTNET_DbgEnableMiniDump"] = "0" },
        };
        using Process child = Process.Start(start)!;
        try
        {
            using CancellationTokenSource limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(WaitLimit);
            Task<string> stderr = child.StandardError.ReadToEndAsync(limit.Token);
            string? address = null;
            while (address is null && await child.StandardOutput.ReadLineAsync(limit.Token).ConfigureAwait(false) is { } line)
            {
                const string Listening = "Now listening on: ";
                int at = line.IndexOf(Listening, StringComparison.Ordinal);
                address = at >= 0 ? line[(at + Listening.Length)..].Trim() : null;
            }

            if (address is null)
            {
                return (false, "the child app did not start");
            }

            // Keep reading the child's output so that it never blocks on a full pipe; awaited once it has exited.
            Task<string> restOfOutput = child.StandardOutput.ReadToEndAsync(limit.Token);
            using HttpClient http = new() { BaseAddress = new Uri(address), Timeout = WaitLimit };
            using HttpResponseMessage response = await http.PostAsync("/broken/register-async-void?email=bob@", content: null, limit.Token).ConfigureAwait(false);
            output.WriteLine($"  POST /broken/register-async-void?email=bob@ (a separate copy of the app, pid {child.Id}) -> {(int)response.StatusCode} {response.ReasonPhrase}");
            await child.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            await restOfOutput.ConfigureAwait(false);
            string firstError = (await stderr.ConfigureAwait(false)).Split('\n')[0].Trim();
            return (true, $"exit code {child.ExitCode}, stderr: \"{firstError}\"");
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }
    }
}
