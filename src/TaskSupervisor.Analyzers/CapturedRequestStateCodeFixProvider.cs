using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0004 fix for DbContext and [FromServices] captures in <c>supervisor.Run(ct => ...)</c>: switch to the per-task
    /// scope overload <c>Run((services, ct) => ...)</c> and resolve every such capture inside the work with
    /// <c>services.GetRequiredService&lt;T&gt;()</c>. HttpContext captures and Task.Run get no fix.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CapturedRequestStateCodeFixProvider)), Shared]
    public sealed class CapturedRequestStateCodeFixProvider : CodeFixProvider
    {
        private const string DependencyInjectionNamespace = "Microsoft.Extensions.DependencyInjection";

        /// <inheritdoc />
        public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.CapturedRequestState.Id);

        /// <inheritdoc />
        /// <remarks>
        /// One fix rewrites every capture of its lambda, so the batch fixer (which merges overlapping edits of one
        /// lambda badly) is replaced by a fixer that rewrites each lambda of a document once.
        /// </remarks>
        public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllInDocumentAsync);

        /// <inheritdoc />
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var diagnostic = context.Diagnostics[0];
            if (!diagnostic.Properties.ContainsKey(CapturedRequestStateAnalyzer.ServiceTypeKey))
            {
                return; // HttpContext, HttpRequest, HttpResponse: nothing to resolve from a scope
            }

            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is not CompilationUnitSyntax unit || model == null)
            {
                return;
            }

            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var lambda = node.AncestorsAndSelf().OfType<LambdaExpressionSyntax>()
                .FirstOrDefault(l => IsScopedRunCandidate(model, l, context.CancellationToken));
            if (lambda == null)
            {
                return;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    "Resolve it from the task's own scope",
                    c => Task.FromResult(context.Document.WithSyntaxRoot(Rewrite(model, unit, new[] { lambda }, c))),
                    equivalenceKey: nameof(CapturedRequestStateCodeFixProvider)),
                diagnostic);
        }

        private static async Task<Document?> FixAllInDocumentAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
        {
            var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is not CompilationUnitSyntax unit || model == null)
            {
                return document;
            }

            var lambdas = new HashSet<LambdaExpressionSyntax>();
            foreach (var diagnostic in diagnostics)
            {
                if (!diagnostic.Properties.ContainsKey(CapturedRequestStateAnalyzer.ServiceTypeKey))
                {
                    continue;
                }

                var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
                var lambda = node.AncestorsAndSelf().OfType<LambdaExpressionSyntax>()
                    .FirstOrDefault(l => IsScopedRunCandidate(model, l, context.CancellationToken));
                if (lambda != null)
                {
                    lambdas.Add(lambda);
                }
            }

            // A lambda inside another one being rewritten waits for the next pass (its captures then stand alone).
            var outermost = lambdas.Where(l => !l.Ancestors().OfType<LambdaExpressionSyntax>().Any(lambdas.Contains)).ToList();
            return outermost.Count == 0 ? document : document.WithSyntaxRoot(Rewrite(model, unit, outermost, context.CancellationToken));
        }

        /// <summary>
        /// The lambda is the first argument of a non-generic supervisor Run call, and either already takes
        /// (services, ct) or takes ct and the supervisor has the scoped Run(Func&lt;IServiceProvider, CancellationToken, Task&gt;).
        /// </summary>
        private static bool IsScopedRunCandidate(SemanticModel model, LambdaExpressionSyntax lambda, CancellationToken cancellationToken)
        {
            if (lambda.Parent is not ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax invocation } list }
                || list.Arguments.IndexOf((ArgumentSyntax)lambda.Parent) != 0
                || model.GetSymbolInfo(invocation, cancellationToken).Symbol is not IMethodSymbol method
                || method.IsGenericMethod
                || method.ReducedFrom != null)
            {
                return false;
            }

            var types = KnownTypes.Create(model.Compilation);
            if (!types.IsSupervisorRun(method))
            {
                return false;
            }

            var parameterCount = ParameterCount(lambda);
            if (parameterCount == 2)
            {
                return IsScopedWork(method.Parameters[0].Type, types);
            }

            return parameterCount == 1
                && method.ContainingType.GetMembers("Run").OfType<IMethodSymbol>()
                    .Concat(method.ContainingType.AllInterfaces.SelectMany(i => i.GetMembers("Run").OfType<IMethodSymbol>()))
                    .Any(m => !m.IsGenericMethod && m.Parameters.Length > 0 && IsScopedWork(m.Parameters[0].Type, types));
        }

        /// <summary>Func&lt;IServiceProvider, CancellationToken, Task&gt;.</summary>
        private static bool IsScopedWork(ITypeSymbol type, KnownTypes types) =>
            type is INamedTypeSymbol { DelegateInvokeMethod: { } invoke }
            && invoke.Parameters.Length == 2
            && KnownTypes.Eq(invoke.Parameters[0].Type, types.ServiceProvider)
            && KnownTypes.Eq(invoke.Parameters[1].Type, types.CancellationToken)
            && KnownTypes.Eq(invoke.ReturnType, types.Task);

        private static int ParameterCount(LambdaExpressionSyntax lambda) => lambda switch
        {
            SimpleLambdaExpressionSyntax => 1,
            ParenthesizedLambdaExpressionSyntax p => p.ParameterList.Parameters.Count,
            _ => -1,
        };

        private static CompilationUnitSyntax Rewrite(
            SemanticModel model, CompilationUnitSyntax root, IReadOnlyCollection<LambdaExpressionSyntax> lambdas, CancellationToken cancellationToken)
        {
            var types = KnownTypes.Create(model.Compilation);
            var newRoot = root.ReplaceNodes(lambdas, (original, _) => RewriteLambda(model, types, original, cancellationToken));
            if (!lambdas.All(l => HasDependencyInjectionInScope(model, l.SpanStart, types)))
            {
                var usingDirective = SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(DependencyInjectionNamespace))
                    .NormalizeWhitespace()
                    .WithTrailingTrivia(root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { RawKind: not 0 } newLine
                        ? newLine
                        : SyntaxFactory.ElasticCarriageReturnLineFeed)
                    .WithAdditionalAnnotations(Formatter.Annotation);
                newRoot = newRoot.AddUsings(usingDirective);
            }

            return newRoot;
        }

        private static LambdaExpressionSyntax RewriteLambda(SemanticModel model, KnownTypes types, LambdaExpressionSyntax lambda, CancellationToken cancellationToken)
        {
            var services = lambda is ParenthesizedLambdaExpressionSyntax { ParameterList.Parameters.Count: 2 } scoped
                ? scoped.ParameterList.Parameters[0].Identifier.ValueText
                : FreeName(model, lambda, "services", cancellationToken);

            // Every DbContext / [FromServices] capture in the body becomes services.GetRequiredService<T>().
            var replacements = new Dictionary<SyntaxNode, SyntaxNode>();
            foreach (var name in lambda.Body.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
            {
                var target = CaptureExpression(name);
                if (target != null
                    && model.GetSymbolInfo(name, cancellationToken).Symbol is { } symbol
                    && IsServiceCapture(symbol, types, lambda)
                    && TypeOf(symbol) is { } type)
                {
                    var typeName = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToMinimalDisplayString(model, name.SpanStart);
                    replacements[target] = SyntaxFactory.ParseExpression($"{services}.GetRequiredService<{typeName}>()").WithTriviaFrom(target);
                }
            }

            var body = lambda.Body.ReplaceNodes(replacements.Keys, (original, _) => replacements[original]);
            LambdaExpressionSyntax newLambda = lambda switch
            {
                SimpleLambdaExpressionSyntax simple => SyntaxFactory.ParenthesizedLambdaExpression()
                    .WithModifiers(simple.Modifiers)
                    .WithParameterList(SyntaxFactory.ParameterList(SyntaxFactory.SeparatedList(new[]
                    {
                        SyntaxFactory.Parameter(SyntaxFactory.Identifier(services)),
                        simple.Parameter.WithoutTrivia(),
                    })).WithTrailingTrivia(simple.Parameter.GetTrailingTrivia()))
                    .WithArrowToken(simple.ArrowToken),
                ParenthesizedLambdaExpressionSyntax { ParameterList.Parameters.Count: 1 } one => one.WithParameterList(
                    one.ParameterList.WithParameters(one.ParameterList.Parameters.Insert(0, SyntaxFactory.Parameter(SyntaxFactory.Identifier(services))))),
                _ => lambda,
            };
            return newLambda.WithBody((CSharpSyntaxNode)body).WithTriviaFrom(lambda).WithAdditionalAnnotations(Formatter.Annotation);
        }

        /// <summary>The expression that stands for a capture: <c>x</c>, or <c>this.x</c>; null for <c>other.x</c>.</summary>
        private static ExpressionSyntax? CaptureExpression(IdentifierNameSyntax name)
        {
            if (name.Parent is MemberAccessExpressionSyntax access && access.Name == name)
            {
                return access.Expression is ThisExpressionSyntax ? access : null;
            }

            return name.Parent is MemberBindingExpressionSyntax || name.Parent is QualifiedNameSyntax ? null : name;
        }

        private static bool IsServiceCapture(ISymbol symbol, KnownTypes types, LambdaExpressionSyntax lambda)
        {
            var declaredInside = symbol.DeclaringSyntaxReferences.Any(r => r.SyntaxTree == lambda.SyntaxTree && lambda.Span.Contains(r.Span));
            return symbol switch
            {
                IParameterSymbol p => !declaredInside && (types.IsDbContext(p.Type) || (types.IsFromServices(p) && !types.IsSupervisorType(p.Type))),
                ILocalSymbol l => !declaredInside && types.IsDbContext(l.Type),
                IFieldSymbol f => !f.IsStatic && types.IsDbContext(f.Type),
                IPropertySymbol p => !p.IsStatic && !p.IsIndexer && types.IsDbContext(p.Type),
                _ => false,
            };
        }

        private static ITypeSymbol? TypeOf(ISymbol symbol) => symbol switch
        {
            IParameterSymbol p => p.Type,
            ILocalSymbol l => l.Type,
            IFieldSymbol f => f.Type,
            IPropertySymbol p => p.Type,
            _ => null,
        };

        private static string FreeName(SemanticModel model, LambdaExpressionSyntax lambda, string preferred, CancellationToken cancellationToken)
        {
            var position = lambda.Body.SpanStart;
            var taken = new HashSet<string>(model.LookupSymbols(position).Select(s => s.Name));
            foreach (var declared in lambda.Body.DescendantNodesAndSelf())
            {
                if (model.GetDeclaredSymbol(declared, cancellationToken) is { } symbol)
                {
                    taken.Add(symbol.Name);
                }
            }

            var name = preferred;
            for (var i = 2; taken.Contains(name); i++)
            {
                name = preferred + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return name;
        }

        private static bool HasDependencyInjectionInScope(SemanticModel model, int position, KnownTypes types) =>
            types.ServiceProvider != null
            && model.LookupSymbols(position, types.ServiceProvider, "GetRequiredService", includeReducedExtensionMethods: true).Length > 0;
    }
}
