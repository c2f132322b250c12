using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace TaskSupervision.Benchmarks;

/// <summary>Runs the benchmarks: <c>dotnet run -c Release --project tests/TaskSupervisor.Benchmarks -- --filter '*' --job short</c>.</summary>
public static class Program
{
    /// <summary>
    /// Hands the command line to BenchmarkDotNet (<c>--filter</c>, <c>--job</c>, <c>--list flat</c>, ...), or, with
    /// <c>--profile-start MODE ROUNDS</c>, runs the start-path driver that <c>profile-start.sh</c> runs under valgrind, or,
    /// with <c>--interleaved-start ROUNDS</c>, the interleaved start probe, or, with <c>--isolated-start ROUNDS</c>, the
    /// starting thread's own cost with the pool held (<see cref="IsolatedStartProbe"/>), or,
    /// with <c>--durable-latency sqlite|pg TARGET [JOBS] [same|cross] [POLL-MS|default]</c>, the latency probe of durable
    /// work (<c>durable-figures.sh</c>; <c>--durable-latency-server</c> is the probe's own second process).
    /// </summary>
    /// <param name="args">BenchmarkDotNet's command-line arguments, or the driver's.</param>
    /// <returns>The exit code.</returns>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--profile-start")
        {
            return StartProfile.Run(args);
        }

        if (args.Length > 0 && args[0] == "--interleaved-start")
        {
            return StartProfile.RunInterleaved(args);
        }

        if (args.Length > 0 && args[0] == "--isolated-start")
        {
            return IsolatedStartProbe.Run(args);
        }

        if (args.Length > 0 && args[0] is "--durable-latency" or "--durable-latency-server")
        {
            return DurableLatencyProbe.Run(args);
        }

        // The generated project is built with the whole solution's analyzers; on a loaded 2-core machine that takes
        // longer than BenchmarkDotNet's default two minutes, and every row then reads NA.
        IConfig config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
