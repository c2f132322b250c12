using System.Collections.Concurrent;
using System.Diagnostics;
using TaskSupervision.Hangfire.Worker;

namespace TaskSupervision.Hangfire.Tests.Infrastructure;

/// <summary>One worker process (tests/TaskSupervisor.Hangfire.Worker): a copy of the application with a Hangfire server.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private WorkerProcess(Process process) => Process = process;

    public Process Process { get; }

    public IReadOnlyList<string> Lines => [.. _lines];

    public IReadOnlyList<string> Errors => [.. _errors];

    public static WorkerProcess Start(StorageTarget target, string name, params string[] options)
    {
        // The worker's dll is copied next to this test assembly (a project reference); run it with the same dotnet.
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment = { ["DOTNET_DbgEnableMiniDump"] = "0" },
        };
        foreach (string argument in (string[])[typeof(ProbeWork).Assembly.Location, target.Kind, target.Connection, target.Schema, target.Results, name, .. options])
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker._lines.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker._errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until the worker has printed a line that starts with <paramref name="prefix"/>.</summary>
    public Task WaitForLineAsync(string prefix, TimeSpan bound) =>
        Wait.UntilAsync(() => _lines.Any(l => l.StartsWith(prefix, StringComparison.Ordinal)), bound, () => $"the worker to print '{prefix}' (it printed: {string.Join(" | ", _lines)}; errors: {string.Join(" | ", _errors.TakeLast(20))})", () => Process.HasExited);

    /// <summary>SIGKILL: the process dies at once, with no chance to run anything.</summary>
    public void KillHard() => Process.Kill();

    /// <summary>SIGTERM, as a deploy or <c>docker stop</c> sends it: the host stops gracefully.</summary>
    public void Terminate()
    {
        using Process kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }

        Process.Dispose();
    }
}

/// <summary>One storage shared by the processes of a test, and the directory where each process writes its results file.</summary>
public sealed class StorageTarget : IDisposable
{
    private readonly string _directory;

    private StorageTarget(string kind, string connection, string schema, string directory)
    {
        Kind = kind;
        Connection = connection;
        Schema = schema;
        _directory = directory;
        Results = Path.Combine(directory, "results");
        Directory.CreateDirectory(Results);
    }

    public string Kind { get; }

    public string Connection { get; }

    public string Schema { get; }

    public string Results { get; }

    public static StorageTarget Sqlite()
    {
        string directory = NewDirectory();
        return new StorageTarget("sqlite", Path.Combine(directory, "jobs.db"), "unused", directory);
    }

    public static StorageTarget Postgres(PostgresServer server) => new("pg", server.ConnectionString, PostgresServer.NewSchema(), NewDirectory());

    /// <summary>Opens the storage in the test process, to read it through Hangfire's monitoring API.</summary>
    public global::Hangfire.JobStorage Open() => Storages.Create(Kind, Connection, Schema);

    /// <summary>
    /// With SQLite, waits until no distributed lock of a killed process is left unexpired. The SQLite storage retries a
    /// taken lock only after a tenth of the caller's timeout, and Hangfire locks a job for a state change with a
    /// 15-minute timeout: a server that met a dead process's lock on a job would wait 90 s before trying again. A new
    /// process that starts after the locks expired cleans them up at its first try. PostgreSQL needs no wait.
    /// </summary>
    public Task WaitForAbandonedLocksAsync(TimeSpan bound)
    {
        if (Kind != "sqlite")
        {
            return Task.CompletedTask;
        }

        return Wait.UntilAsync(
            () =>
            {
                using var connection = new SQLite.SQLiteConnection(Connection, SQLite.SQLiteOpenFlags.ReadOnly, storeDateTimeAsTicks: true);
                return connection.ExecuteScalar<long>("select count(*) from DistributedLock where ExpireAt > ?", DateTime.UtcNow.Ticks) == 0;
            },
            bound,
            () => "the locks of the killed process to expire");
    }

    /// <summary>Every line of every results file: one per start, end or failure of a delivery.</summary>
    public IReadOnlyList<ResultLine> ReadResults()
    {
        var lines = new List<ResultLine>();
        foreach (string file in Directory.GetFiles(Results, "*.log"))
        {
            string process = Path.GetFileNameWithoutExtension(file).Split('-')[0];
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                string[] parts = line.Split(' ');
                if (parts.Length == 5)
                {
                    lines.Add(new ResultLine(process, parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), parts[3] == "inprocess", parts[4]));
                }
            }
        }

        return lines;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed process's file may still be open for a moment; the directory is under /tmp.
        }
    }

    private static string NewDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "task-supervisor-hangfire-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}

/// <summary>One event of one delivery: <c>start</c>, <c>done</c> or <c>fail</c>.</summary>
public sealed record ResultLine(string Process, string What, int Id, int Delivery, bool InProcess, string JobId);

/// <summary>Waits on a condition with a bound: a hang fails the test, it never lets things settle.</summary>
public static class Wait
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task UntilAsync(Func<bool> condition, TimeSpan bound, Func<string> what, Func<bool>? failFast = null)
    {
        var elapsed = Stopwatch.StartNew();
        while (!condition())
        {
            if (elapsed.Elapsed > bound || (failFast?.Invoke() ?? false))
            {
                condition().Should().BeTrue("the test waited {0:0.0} s for {1}", elapsed.Elapsed.TotalSeconds, what());
                return;
            }

            // A poll of state that another process writes (a file, a database): there is no signal to wait on.
            await Task.Delay(Poll);
        }
    }
}
