using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace TaskSupervision.Analyzers.RealCode;

/// <summary>
/// Usage: RealCode &lt;checkout&gt; &lt;TaskSupervisor.Analyzers.dll&gt; [--include-tests] [--list file].
/// Prints, per project and in total, the diagnostics of every TS rule and the time each analyzer took, and writes
/// every diagnostic (rule, file:line:column, message) to the list file for review by hand.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: RealCode <checkout> <TaskSupervisor.Analyzers.dll> [--include-tests] [--list <file>]");
            return 2;
        }

        var checkout = Path.GetFullPath(args[0]);
        var analyzerPath = Path.GetFullPath(args[1]);
        var includeTests = args.Contains("--include-tests");
        var listIndex = Array.IndexOf(args, "--list");
        var listPath = listIndex >= 0 && listIndex + 1 < args.Length ? args[listIndex + 1] : null;

        var analyzers = new AnalyzerFileReference(analyzerPath, new Loader())
            .GetAnalyzers(LanguageNames.CSharp)
            .ToImmutableArray();
        var projects = ProjectInfo.Discover(checkout);
        var references = new References();
        var built = new Dictionary<string, MetadataReference>(StringComparer.Ordinal);
        var byRule = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var byAnalyzer = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        using var list = listPath == null ? null : new StreamWriter(listPath);
        var totalFiles = 0;
        var totalErrors = 0;

        // Test projects are compiled only when a project under analysis references them.
        var analyzed = projects.Where(p => includeTests || !p.IsTest).ToList();
        var needed = new HashSet<string>(analyzed.Select(p => p.Path).Concat(analyzed.SelectMany(ProjectInfo.Closure)), StringComparer.Ordinal);
        Console.WriteLine($"checkout {checkout}: {projects.Count} projects, {analyzed.Count} analyzed");
        foreach (var project in ProjectInfo.InBuildOrder(projects).Where(p => needed.Contains(p.Path)))
        {
            var compilation = Compile(project, references, built);
            built[project.Path] = compilation.ToMetadataReference();
            if (project.IsTest && !includeTests)
            {
                continue;
            }

            var errors = compilation.GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);
            var withAnalyzers = compilation.WithAnalyzers(
                analyzers,
                new CompilationWithAnalyzersOptions(
                    new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                    onAnalyzerException: (e, a, d) => Console.Error.WriteLine($"  analyzer {a.GetType().Name} threw: {e.Message}"),
                    concurrentAnalysis: false,
                    logAnalyzerExecutionTime: true));
            var diagnostics = (await withAnalyzers.GetAnalyzerDiagnosticsAsync().ConfigureAwait(false))
                .Where(d => d.Id.StartsWith("TS", StringComparison.Ordinal))
                .OrderBy(d => d.Location.SourceTree?.FilePath, StringComparer.Ordinal)
                .ThenBy(d => d.Location.SourceSpan.Start)
                .ToList();
            foreach (var analyzer in analyzers)
            {
                var telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).ConfigureAwait(false);
                var name = analyzer.GetType().Name;
                byAnalyzer[name] = byAnalyzer.GetValueOrDefault(name) + telemetry.ExecutionTime;
            }

            totalFiles += compilation.SyntaxTrees.Count();
            totalErrors += errors;
            var counts = string.Join(" ", diagnostics.GroupBy(d => d.Id).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}"));
            Console.WriteLine($"  {Path.GetRelativePath(checkout, project.Path)}: {compilation.SyntaxTrees.Count()} files, {errors} compile errors; {(counts.Length == 0 ? "no TS diagnostics" : counts)}");
            foreach (var diagnostic in diagnostics)
            {
                byRule[diagnostic.Id] = byRule.GetValueOrDefault(diagnostic.Id) + 1;
                var span = diagnostic.Location.GetLineSpan();
                list?.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{diagnostic.Id} {Path.GetRelativePath(checkout, span.Path)}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1} {diagnostic.GetMessage(CultureInfo.InvariantCulture)}"));
            }
        }

        Console.WriteLine($"total: {totalFiles} files, {totalErrors} compile errors (unresolved packages; see the report)");
        foreach (var rule in new[] { "TS0001", "TS0002", "TS0003", "TS0004", "TS0005" })
        {
            Console.WriteLine($"  {rule}: {byRule.GetValueOrDefault(rule)}");
        }

        foreach (var (name, time) in byAnalyzer.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {time.TotalMilliseconds:F0} ms"));
        }

        return 0;
    }

    private static CSharpCompilation Compile(ProjectInfo project, References references, Dictionary<string, MetadataReference> built)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview, DocumentationMode.None, SourceCodeKind.Regular, Preprocessor);
        var trees = project.Sources
            .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), parse, path))
            .ToList();
        if (project.GlobalUsings.Count > 0)
        {
            trees.Add(CSharpSyntaxTree.ParseText(
                string.Concat(project.GlobalUsings.Select(u => "global using " + u + ";\n")), parse, Path.Combine(project.Directory, "obj", "GlobalUsings.g.cs")));
        }

        var metadata = references.For(project).ToList();
        foreach (var reference in ProjectInfo.Closure(project))
        {
            if (built.TryGetValue(reference, out var image))
            {
                metadata.Add(image);
            }
        }

        return CSharpCompilation.Create(
            Path.GetFileNameWithoutExtension(project.Path),
            trees,
            metadata,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: true));
    }

    /// <summary>What an SDK build of a net10.0 project defines.</summary>
    private static readonly string[] Preprocessor =
    [
        "RELEASE", "TRACE", "NET", "NETCOREAPP", "NET10_0",
        "NETCOREAPP3_0_OR_GREATER", "NETCOREAPP3_1_OR_GREATER", "NET5_0_OR_GREATER", "NET6_0_OR_GREATER",
        "NET7_0_OR_GREATER", "NET8_0_OR_GREATER", "NET9_0_OR_GREATER", "NET10_0_OR_GREATER",
        "NETCOREAPP2_0_OR_GREATER", "NETCOREAPP2_1_OR_GREATER", "NETSTANDARD2_0_OR_GREATER", "NETSTANDARD2_1_OR_GREATER",
    ];

    private sealed class Loader : IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }
}
