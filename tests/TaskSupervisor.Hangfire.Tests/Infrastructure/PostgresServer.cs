using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TaskSupervision.Hangfire.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server (the Debian package), started for the tests on a free loopback port with a data directory of
/// its own under /tmp, and stopped afterwards. initdb refuses to run as root, so the server's binaries run as the
/// <c>postgres</c> system user. Missing packages are installed first (.ci/ensure-packages): the tests never skip.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string _bin = "";
    private string _dataDirectory = "";

    /// <summary>The connection string of the server's <c>postgres</c> database, as the <c>postgres</c> user (trust auth on loopback).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await Run("bash", [Path.Combine(RepositoryRoot(), ".ci", "ensure-packages"), "postgresql"]);
        _bin = Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
            .OrderByDescending(d => d, StringComparer.Ordinal)
            .FirstOrDefault() ?? throw new InvalidOperationException("PostgreSQL's binaries were not found under /usr/lib/postgresql after .ci/ensure-packages.");

        _dataDirectory = Path.Combine("/tmp", $"task-supervisor-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDirectory);
        await Run("chown", ["postgres:postgres", _dataDirectory]);
        await AsPostgres("initdb", "-D", _dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync");

        int port = FreePort();
        await AsPostgres(
            "pg_ctl", "-D", _dataDirectory, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {_dataDirectory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off",
            "start");
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50";
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_dataDirectory.Length != 0 && Directory.Exists(_dataDirectory))
        {
            await AsPostgres("pg_ctl", "-D", _dataDirectory, "-m", "immediate", "-w", "stop");
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    /// <summary>A fresh schema name, so that every test has a storage of its own on the one server.</summary>
    public static string NewSchema() => "hf_" + Guid.NewGuid().ToString("N")[..12];

    private Task AsPostgres(string tool, params string[] arguments) =>
        Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. arguments]);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TaskSupervisor.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (TaskSupervisor.sln) was not found above " + AppContext.BaseDirectory);
    }

    private static async Task Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output} {await error}");
        }
    }
}
