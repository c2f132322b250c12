using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace PitfallsDemo.Durable;

/// <summary>
/// Part of the tour: a crash loses nothing. Starts a copy of the app with durable work on a SQLite file, asks it to
/// confirm an order, kills it with SIGKILL in the middle of the job, starts a second copy on the same file, and waits
/// for the confirmation to appear there.
/// </summary>
internal static class CrashLosesNothing
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    public static async Task<(bool Finished, string Evidence)> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Path.GetTempPath(), "pitfalls-demo-durable-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string database = Path.Combine(directory, "jobs.db");
        string confirmations = Path.ChangeExtension(database, ".confirmations.log");
        try
        {
            using Copy first = await Copy.StartAsync(database, cancellationToken).ConfigureAwait(false);
            using HttpClient http = new() { BaseAddress = new Uri(first.Address), Timeout = WaitLimit };
            using HttpResponseMessage response = await http.PostAsync("/critical/orders/7/confirm", content: null, cancellationToken).ConfigureAwait(false);
            CriticalJobStarted started = (await response.Content.ReadFromJsonAsync<CriticalJobStarted>(JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false))!;
            output.WriteLine($"  POST /critical/orders/7/confirm (copy 1, pid {first.Process.Id}) -> {(int)response.StatusCode} {response.ReasonPhrase}: stored as Hangfire job {started.JobId}, running in process");
            await first.WaitForLineAsync("confirming order 7", cancellationToken).ConfigureAwait(false);

            first.Process.Kill();
            await first.Process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var sinceKill = Stopwatch.StartNew();
            output.WriteLine($"  copy 1 killed with SIGKILL in the middle of the job ({OrderConfirmations.Duration.TotalSeconds:0} s of work); nothing of it ran to the end");

            using Copy second = await Copy.StartAsync(database, cancellationToken).ConfigureAwait(false);
            output.WriteLine($"  copy 2 (pid {second.Process.Id}) started on the same SQLite file; the job's lease ({CriticalJobs.Lease.TotalSeconds:0} s) runs out...");
            string? confirmed = null;
            while (confirmed is null && sinceKill.Elapsed < WaitLimit)
            {
                confirmed = File.Exists(confirmations) ? File.ReadLines(confirmations).FirstOrDefault(l => l.StartsWith("order 7 ", StringComparison.Ordinal)) : null;
                if (confirmed is null)
                {
                    // Polls a file another process writes: there is no signal to wait on.
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                }
            }

            bool byCopy2 = confirmed?.Contains($"process {second.Process.Id} ", StringComparison.Ordinal) == true;
            string evidence = confirmed is null
                ? "no confirmation within " + WaitLimit.TotalSeconds + " s"
                : $"\"{confirmed}\", {sinceKill.Elapsed.TotalSeconds:0.0} s after the kill";
            return (byCopy2 && confirmed!.Contains("delivery 2", StringComparison.Ordinal), evidence);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A copy may still hold the file for a moment; the directory is under the temp path.
            }
        }
    }

    /// <summary>One copy of the app, as its own process, with durable work on the shared file.</summary>
    private sealed class Copy : IDisposable
    {
        private readonly ConcurrentQueue<string> _lines = new();

        private Copy(Process process) => Process = process;

        public Process Process { get; }

        public string Address { get; private set; } = "";

        public static async Task<Copy> StartAsync(string database, CancellationToken cancellationToken)
        {
            string host = Environment.ProcessPath is { } path && System.IO.Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
            ProcessStartInfo start = new(host)
            {
                ArgumentList = { typeof(CrashLosesNothing).Assembly.Location, "--urls=http://127.0.0.1:0", "--durable", database },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["DOTNET_DbgEnableMiniDump"] = "0" },
            };
            var copy = new Copy(Process.Start(start)!);
            copy.Process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    copy._lines.Enqueue(e.Data);
                }
            };
            copy.Process.ErrorDataReceived += (_, _) => { };
            copy.Process.BeginOutputReadLine();
            copy.Process.BeginErrorReadLine();
            const string Listening = "Now listening on: ";
            string line = await copy.WaitForLineAsync(Listening, cancellationToken).ConfigureAwait(false);
            copy.Address = line[(line.IndexOf(Listening, StringComparison.Ordinal) + Listening.Length)..].Trim();
            return copy;
        }

        public async Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken)
        {
            var elapsed = Stopwatch.StartNew();
            while (elapsed.Elapsed < WaitLimit && !Process.HasExited)
            {
                string? found = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                if (found is not null)
                {
                    return found;
                }

                // Polls the output another process writes.
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }

            throw new TimeoutException($"The copy of the app did not print '{text}' (it printed: {string.Join(" | ", _lines)}).");
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }
}
