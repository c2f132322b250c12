using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace TaskSupervision.Analyzers.Tests;

public class RuleMetadataTests
{
    public static TheoryData<DiagnosticAnalyzer> Analyzers() =>
    [
        new FireAndForgetAnalyzer(),
        new AsyncVoidAnalyzer(),
        new UnawaitedTaskAnalyzer(),
        new CapturedRequestStateAnalyzer(),
    ];

    [Theory]
    [MemberData(nameof(Analyzers))]
    public void Each_rule_is_a_documented_warning(DiagnosticAnalyzer analyzer)
    {
        Assert.NotEmpty(analyzer.SupportedDiagnostics);
        foreach (var rule in analyzer.SupportedDiagnostics)
        {
            AssertDocumentedWarning(rule);
        }
    }

    private static void AssertDocumentedWarning(DiagnosticDescriptor rule)
    {
        Assert.Matches("^TS000[1-5]$", rule.Id);
        Assert.Equal(DiagnosticSeverity.Warning, rule.DefaultSeverity);
        Assert.True(rule.IsEnabledByDefault);
        Assert.False(string.IsNullOrWhiteSpace(rule.Title.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("{0}", rule.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        // No help link until the project has a public home: a link must name a page that exists.
        Assert.Empty(rule.HelpLinkUri);

        var root = RepositoryRoot();
        var page = File.ReadAllText(Path.Combine(root, "docs", "rules", rule.Id + ".md"));
        Assert.StartsWith($"# {rule.Id}", page, StringComparison.Ordinal);
        Assert.Contains($"dotnet_diagnostic.{rule.Id}.severity", page, StringComparison.Ordinal);
        var unshipped = File.ReadAllText(Path.Combine(root, "src", "TaskSupervisor.Analyzers", "AnalyzerReleases.Unshipped.md"));
        Assert.Contains($"{rule.Id} | Reliability | Warning |", unshipped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rule_can_be_turned_off_in_editorconfig()
    {
        var test = new CSharpAnalyzerTest<FireAndForgetAnalyzer, DefaultVerifier>
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            TestCode = """
                using System.Threading.Tasks;

                class Worker
                {
                    public void Start() => Task.Run(() => { });
                }
                """,
        };
        test.TestState.AdditionalReferences.AddRange(Stubs.References);
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", """
            root = true

            [*.cs]
            dotnet_diagnostic.TS0001.severity = none
            """));
        await test.RunAsync();
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "docs", "rules")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Repository root (with docs/rules) not found above " + AppContext.BaseDirectory);
    }
}
