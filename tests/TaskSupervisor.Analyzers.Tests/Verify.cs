using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace TaskSupervision.Analyzers.Tests;

/// <summary>
/// Runs an analyzer (and optionally its code fix) over test sources. References come from the running framework and
/// the in-memory stubs, never from a package download, so the tests run offline.
/// </summary>
internal static class Verify<TAnalyzer, TCodeFix>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    private static readonly ReferenceAssemblies NoPackages = new("net10.0");

    /// <summary>A diagnostic of the analyzer's (single) rule, to locate with WithSpan / WithLocation.</summary>
    public static DiagnosticResult Diagnostic() => new DiagnosticResult(new TAnalyzer().SupportedDiagnostics[0]);

    /// <summary>A diagnostic of one of the analyzer's rules.</summary>
    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new DiagnosticResult(descriptor);

    /// <summary>Checks <paramref name="source"/> with an .editorconfig holding <paramref name="editorConfig"/> under [*.cs].</summary>
    public static Task AnalyzerWithConfigAsync(string source, string editorConfig, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = source };
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*.cs]\n" + editorConfig + "\n"));
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Checks that <paramref name="source"/> yields exactly <paramref name="expected"/>. Markup {|#0:...|} and [|...|] work.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Checks the diagnostics of <paramref name="source"/>, then that the fix turns it into <paramref name="fixedSource"/>, which must compile.</summary>
    public static Task CodeFixAsync(string source, DiagnosticResult[] expected, string fixedSource, int? iterations = null)
    {
        var test = new Test { TestCode = source, FixedCode = fixedSource };
        test.ExpectedDiagnostics.AddRange(expected);
        if (iterations is { } n)
        {
            test.NumberOfIncrementalIterations = n;
            test.NumberOfFixAllIterations = n;
        }

        return test.RunAsync();
    }

    /// <summary>Like <see cref="CodeFixAsync(string, DiagnosticResult[], string, int?)"/> over several documents.</summary>
    public static Task CodeFixAsync(string[] sources, DiagnosticResult[] expected, string[] fixedSources)
    {
        var test = new Test();
        foreach (var source in sources)
        {
            test.TestState.Sources.Add(source);
        }

        foreach (var source in fixedSources)
        {
            test.FixedState.Sources.Add(source);
        }

        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Checks that the diagnostics are reported and that no fix is offered.</summary>
    public static Task NoCodeFixAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new Test { TestCode = source, FixedCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private sealed class AnalyzerTest : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    {
        public AnalyzerTest()
        {
            ReferenceAssemblies = NoPackages;
            TestState.AdditionalReferences.AddRange(Stubs.References);
        }

        protected override ParseOptions CreateParseOptions() =>
            ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.CSharp12);

        protected override CompilationOptions CreateCompilationOptions() =>
            ((CSharpCompilationOptions)base.CreateCompilationOptions()).WithNullableContextOptions(NullableContextOptions.Enable);
    }

    private sealed class Test : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
    {
        public Test()
        {
            ReferenceAssemblies = NoPackages;
            TestState.AdditionalReferences.AddRange(Stubs.References);
            FixedState.AdditionalReferences.AddRange(Stubs.References);
        }

        protected override ParseOptions CreateParseOptions() =>
            ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.CSharp12);

        protected override CompilationOptions CreateCompilationOptions() =>
            ((CSharpCompilationOptions)base.CreateCompilationOptions()).WithNullableContextOptions(NullableContextOptions.Enable);
    }
}
