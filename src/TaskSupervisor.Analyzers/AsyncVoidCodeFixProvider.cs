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
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.FindSymbols;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0002 fix: make an async void method (or local function) return Task, and await its bare call statements in
    /// async callers (in every document of the solution, so no CS4014 appears). Not offered when a reference is not a plain call (a method group
    /// converted to a void delegate would stop compiling).
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AsyncVoidCodeFixProvider)), Shared]
    public sealed class AsyncVoidCodeFixProvider : CodeFixProvider
    {
        /// <inheritdoc />
        public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.AsyncVoid.Id);

        /// <inheritdoc />
        /// <remarks>
        /// The batch fixer merges the text changes of every fix, callers in other documents included; the changes of
        /// two fixes never overlap (a declaration's return type, and <c>await</c> before a call statement).
        /// </remarks>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc />
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root == null || model == null)
            {
                return;
            }

            var diagnostic = context.Diagnostics[0];
            var token = root.FindToken(diagnostic.Location.SourceSpan.Start);
            var declaration = token.Parent as SyntaxNode;
            var returnType = declaration switch
            {
                MethodDeclarationSyntax m when m.Identifier == token => m.ReturnType,
                LocalFunctionStatementSyntax f when f.Identifier == token => f.ReturnType,
                _ => null,
            };
            if (declaration == null || returnType == null
                || model.GetDeclaredSymbol(declaration, context.CancellationToken) is not IMethodSymbol method
                || method.IsOverride || method.ExplicitInterfaceImplementations.Length > 0 || ImplementsInterface(method))
            {
                return; // lambdas: their delegate type is not ours to change; overrides and implementations: the base decides
            }

            var callers = await FindCallsAsync(context.Document, method, context.CancellationToken).ConfigureAwait(false);
            if (callers == null)
            {
                return;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    "Return Task",
                    c => ReturnTaskAsync(context.Document, returnType, callers, c),
                    equivalenceKey: nameof(AsyncVoidCodeFixProvider)),
                diagnostic);
        }

        private static bool ImplementsInterface(IMethodSymbol method) =>
            method.ContainingType != null
            && method.ContainingType.AllInterfaces.Any(i => i.GetMembers(method.Name)
                .Any(m => KnownTypes.Eq(method.ContainingType.FindImplementationForInterfaceMember(m), method)));

        /// <summary>The calls, by document, or null when some reference anywhere is not a plain call.</summary>
        private static async Task<Dictionary<DocumentId, List<InvocationExpressionSyntax>>?> FindCallsAsync(
            Document document, IMethodSymbol method, CancellationToken cancellationToken)
        {
            var calls = new Dictionary<DocumentId, List<InvocationExpressionSyntax>> { [document.Id] = new() };
            var references = await SymbolFinder.FindReferencesAsync(method, document.Project.Solution, cancellationToken).ConfigureAwait(false);
            foreach (var location in references.SelectMany(r => r.Locations))
            {
                var tree = await location.Document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
                var node = tree?.FindNode(location.Location.SourceSpan, getInnermostNodeForTie: true);
                if (node is SimpleNameSyntax name && name.Parent is MemberAccessExpressionSyntax access && access.Name == name)
                {
                    node = access;
                }

                if (node?.Parent is not InvocationExpressionSyntax call || call.Expression != node)
                {
                    return null;
                }

                if (!calls.TryGetValue(location.Document.Id, out var list))
                {
                    calls[location.Document.Id] = list = new();
                }

                list.Add(call);
            }

            return calls;
        }

        /// <summary>Changes the return type, then awaits the bare call statements of async callers in every document.</summary>
        private static async Task<Solution> ReturnTaskAsync(
            Document document, TypeSyntax returnType, Dictionary<DocumentId, List<InvocationExpressionSyntax>> calls, CancellationToken cancellationToken)
        {
            var solution = document.Project.Solution;
            foreach (var pair in calls)
            {
                var editor = await DocumentEditor.CreateAsync(solution.GetDocument(pair.Key)!, cancellationToken).ConfigureAwait(false);
                if (pair.Key == document.Id)
                {
                    editor.ReplaceNode(returnType, SyntaxFactory.ParseTypeName("System.Threading.Tasks.Task")
                        .WithTriviaFrom(returnType)
                        .WithAdditionalAnnotations(Simplifier.Annotation));
                }

                foreach (var call in pair.Value)
                {
                    // Only a bare call statement in an async caller outside a lock can simply be awaited; other callers
                    // compile unchanged (the task is then dropped, as the void call did).
                    if (call.Parent is ExpressionStatementSyntax
                        && editor.SemanticModel.GetEnclosingSymbol(call.SpanStart, cancellationToken) is IMethodSymbol { IsAsync: true }
                        && !call.Ancestors().TakeWhile(a => a is not AnonymousFunctionExpressionSyntax && a is not LocalFunctionStatementSyntax && a is not MemberDeclarationSyntax).OfType<LockStatementSyntax>().Any())
                    {
                        editor.ReplaceNode(call, SyntaxFactory.AwaitExpression(call.WithoutLeadingTrivia())
                            .WithLeadingTrivia(call.GetLeadingTrivia())
                            .WithAdditionalAnnotations(Formatter.Annotation));
                    }
                }

                solution = solution.WithDocumentSyntaxRoot(pair.Key, editor.GetChangedRoot());
            }

            return solution;
        }
    }
}
