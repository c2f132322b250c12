using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FluentAssertions;

namespace TaskSupervision.Testing;

/// <summary>
/// An application run as a real child process with the same <c>dotnet</c> as the tests, its output collected line by line,
/// stopped with a real SIGTERM: what the real-process tests share (linked by tests/Directory.Build.props). A subclass
/// watches the lines for what it waits on (<see cref="OnLine"/>).
/// </summary>
internal abstract class ChildProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>Prepares the process: <paramref name="arguments"/> after the host (the app's dll first), and <paramref name="environment"/>.</summary>
    protected ChildProcess(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }

        Process = new Process { StartInfo = start, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => Collect(e.Data);
        Process.ErrorDataReceived += (_, e) => Collect(e.Data is null ? null : "stderr: " + e.Data);
    }

    public Process Process { get; }

    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Sends SIGTERM, as a service manager or <c>docker stop</c> does.</summary>
    public void Terminate()
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Process.Id.ToString(CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit(TimeSpan.FromSeconds(10)).Should().BeTrue();
        kill.ExitCode.Should().Be(0);
    }

    public string Transcript() => "the app's output:" + Environment.NewLine + string.Join(Environment.NewLine, _lines.TakeLast(40));

    public void KillIfRunning()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }
    }

    public void Dispose() => Process.Dispose();

    /// <summary>Starts the process and the reading of its output.</summary>
    protected void Launch()
    {
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>Called for every line of output, after it is collected.</summary>
    protected abstract void OnLine(string line);

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        OnLine(line);
    }
}
