using BenchmarkDotNet.Running;

namespace TaskSupervision.Benchmarks;

/// <summary>Runs the benchmarks: <c>dotnet run -c Release --project tests/TaskSupervisor.Benchmarks -- --filter '*' --job short</c>.</summary>
public static class Program
{
    /// <summary>Hands the command line to BenchmarkDotNet (<c>--filter</c>, <c>--job</c>, <c>--list flat</c>, ...).</summary>
    /// <param name="args">BenchmarkDotNet's command-line arguments.</param>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
