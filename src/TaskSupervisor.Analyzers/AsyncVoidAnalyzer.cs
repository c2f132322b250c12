using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace TaskSupervision.Analyzers
{
    /// <summary>TS0002: async void methods that are not event handlers, and async lambdas converted to void-returning delegates.</summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class AsyncVoidAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>Test attributes of frameworks whose runners await async void test methods.</summary>
        private static readonly ImmutableHashSet<string> TestAttributes = ImmutableHashSet.Create(
            "Xunit.FactAttribute",
            "Xunit.TheoryAttribute",
            "NUnit.Framework.TestAttribute",
            "NUnit.Framework.TestCaseAttribute",
            "Microsoft.VisualStudio.TestTools.UnitTesting.TestMethodAttribute",
            "Microsoft.VisualStudio.TestTools.UnitTesting.DataTestMethodAttribute");

        /// <summary>
        /// The .editorconfig option naming other assemblies of the same codebase (the solution's other projects), whose
        /// interfaces and base classes count as the code's own: comma-separated names, or prefixes ending in '*'.
        /// </summary>
        internal const string OwnAssembliesOption = "dotnet_code_quality.TS0002.own_assemblies";

        private static readonly char[] Separators = { ',', ';' };

        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Descriptors.AsyncVoid);

        /// <inheritdoc />
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                var types = KnownTypes.Create(start.Compilation);
                start.RegisterSymbolAction(c => AnalyzeMethod(c, types), SymbolKind.Method);
                start.RegisterOperationAction(c => AnalyzeLocalFunction(c, types), OperationKind.LocalFunction);
                start.RegisterOperationAction(c => AnalyzeLambda(c, types), OperationKind.AnonymousFunction);
            });
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context, KnownTypes types)
        {
            var method = (IMethodSymbol)context.Symbol;
            if ((method.MethodKind != MethodKind.Ordinary && method.MethodKind != MethodKind.ExplicitInterfaceImplementation)
                || !IsCandidate(method, types)
                || HasTestAttribute(method))
            {
                return;
            }

            var own = ReadOwnAssemblies(context, method);
            if (OverridesReferencedMember(method, own) || ImplementsReferencedMember(method, own))
            {
                return;
            }

            foreach (var location in method.Locations)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.AsyncVoid, location, method.Name));
            }
        }

        private static void AnalyzeLocalFunction(OperationAnalysisContext context, KnownTypes types)
        {
            var function = ((ILocalFunctionOperation)context.Operation).Symbol;
            if (IsCandidate(function, types) && context.Operation.Syntax is LocalFunctionStatementSyntax syntax)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.AsyncVoid, syntax.Identifier.GetLocation(), function.Name));
            }
        }

        private static void AnalyzeLambda(OperationAnalysisContext context, KnownTypes types)
        {
            var lambda = (IAnonymousFunctionOperation)context.Operation;
            if (!IsCandidate(lambda.Symbol, types) || IsEventSubscription(lambda))
            {
                return;
            }

            // Report the header ("async () =>", "async delegate"), not the whole body.
            var syntax = lambda.Syntax;
            SyntaxNode? body = syntax is AnonymousFunctionExpressionSyntax function ? function.Body : null;
            var span = body == null ? syntax.Span : TextSpan.FromBounds(syntax.SpanStart, body.SpanStart);
            var text = syntax.SyntaxTree.GetText(context.CancellationToken).ToString(span).TrimEnd();
            span = new TextSpan(span.Start, text.Length);
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.AsyncVoid, Location.Create(syntax.SyntaxTree, span), text));
        }

        /// <summary>Async, returns void, and is not shaped like an event handler (object sender, EventArgs e).</summary>
        private static bool IsCandidate(IMethodSymbol method, KnownTypes types) =>
            method.IsAsync && method.ReturnsVoid && !IsEventHandlerShape(method, types);

        private static bool IsEventHandlerShape(IMethodSymbol method, KnownTypes types) =>
            method.Parameters.Length == 2
            && method.Parameters[0].Type.SpecialType == SpecialType.System_Object
            && types.IsEventArgs(method.Parameters[1].Type);

        private static bool IsEventSubscription(IOperation lambda)
        {
            for (var parent = lambda.Parent; parent != null; parent = parent.Parent)
            {
                switch (parent)
                {
                    case IEventAssignmentOperation:
                        return true;
                    case IConversionOperation:
                    case IDelegateCreationOperation:
                    case IParenthesizedOperation:
                        continue;
                    default:
                        return false;
                }
            }

            return false;
        }

        /// <summary>
        /// An override whose chain reaches a method of a referenced assembly: its void signature is not the code's to
        /// change. An override of a method declared in this compilation is reported; the fix is to change both.
        /// </summary>
        private static bool OverridesReferencedMember(IMethodSymbol method, OwnAssemblies own)
        {
            for (var overridden = method.OverriddenMethod; overridden != null; overridden = overridden.OverriddenMethod)
            {
                if (!own.Contains(overridden.ContainingAssembly))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Implements (implicitly or explicitly) a void member of an interface from a referenced assembly.</summary>
        private static bool ImplementsReferencedMember(IMethodSymbol method, OwnAssemblies own)
        {
            foreach (var member in method.ExplicitInterfaceImplementations)
            {
                if (!own.Contains(member.ContainingAssembly))
                {
                    return true;
                }
            }

            foreach (var @interface in method.ContainingType.AllInterfaces)
            {
                if (own.Contains(@interface.ContainingAssembly))
                {
                    continue; // declared in this compilation (or one the project names as its own): it can return Task
                }

                foreach (var member in @interface.GetMembers(method.Name))
                {
                    if (KnownTypes.Eq(method.ContainingType.FindImplementationForInterfaceMember(member), method))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>
        /// The assemblies whose members the code can change: the compilation's own, and those named by the
        /// <see cref="OwnAssembliesOption"/> .editorconfig option (names, or prefixes ending in '*').
        /// </summary>
        private static OwnAssemblies ReadOwnAssemblies(SymbolAnalysisContext context, IMethodSymbol method)
        {
            var tree = method.Locations.Length > 0 ? method.Locations[0].SourceTree : null;
            string? value = null;
            if (tree != null)
            {
                context.Options.AnalyzerConfigOptionsProvider.GetOptions(tree).TryGetValue(OwnAssembliesOption, out value);
            }

            return new OwnAssemblies(method.ContainingAssembly, value);
        }

        private readonly struct OwnAssemblies
        {
            private readonly IAssemblySymbol _compilation;
            private readonly string[] _patterns;

            public OwnAssemblies(IAssemblySymbol compilation, string? option)
            {
                _compilation = compilation;
                _patterns = string.IsNullOrWhiteSpace(option)
                    ? System.Array.Empty<string>()
                    : option!.Split(Separators, System.StringSplitOptions.RemoveEmptyEntries);
            }

            public bool Contains(IAssemblySymbol? assembly)
            {
                if (assembly == null || KnownTypes.Eq(assembly, _compilation))
                {
                    return assembly != null;
                }

                foreach (var raw in _patterns)
                {
                    var pattern = raw.Trim();
                    if (pattern.EndsWith("*", System.StringComparison.Ordinal)
                        ? assembly.Name.StartsWith(pattern.Substring(0, pattern.Length - 1), System.StringComparison.Ordinal)
                        : string.Equals(assembly.Name, pattern, System.StringComparison.Ordinal))
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        private static bool HasTestAttribute(IMethodSymbol method)
        {
            foreach (var attribute in method.GetAttributes())
            {
                for (var type = attribute.AttributeClass; type != null; type = type.BaseType)
                {
                    if (TestAttributes.Contains(type.ToDisplayString()))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }
}
