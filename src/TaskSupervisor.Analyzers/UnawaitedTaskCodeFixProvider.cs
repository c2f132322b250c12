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
using Microsoft.CodeAnalysis.Formatting;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0003 and TS0005 fix, only inside async functions: <c>_ = GetAsync();</c> (or
    /// <c>_ = GetAsync().ConfigureAwait(false);</c>) becomes <c>await GetAsync();</c> (with the ConfigureAwait kept),
    /// and <c>var t = GetAsync();</c> is followed by <c>await t;</c>.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnawaitedTaskCodeFixProvider)), Shared]
    public sealed class UnawaitedTaskCodeFixProvider : CodeFixProvider
    {
        /// <inheritdoc />
        public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.Unawaited.Id, Descriptors.DiscardedTask.Id);

        /// <remarks>
        /// Not the batch fixer: it merges text diffs, and the diffs of identical neighbouring statements
        /// (<c>_ = SaveAsync();</c> twice) overlap and get dropped. This one edits each document's tree once.
        /// </remarks>
        public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllInDocumentAsync);

        /// <inheritdoc />
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            var diagnostic = context.Diagnostics[0];
            if (root == null || model == null || Plan(root, model, diagnostic, context.CancellationToken) is not { } plan)
            {
                return;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    "Await the task",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(
                        plan.Added == null
                            ? root.ReplaceNode(plan.Old, plan.New)
                            : root.ReplaceNode(plan.Old, new[] { plan.New, plan.Added }))),
                    equivalenceKey: nameof(UnawaitedTaskCodeFixProvider)),
                diagnostic);
        }

        private static async Task<Document?> FixAllInDocumentAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
        {
            var editor = await DocumentEditor.CreateAsync(document, context.CancellationToken).ConfigureAwait(false);
            foreach (var diagnostic in diagnostics)
            {
                if (Plan(editor.OriginalRoot, editor.SemanticModel, diagnostic, context.CancellationToken) is not { } plan)
                {
                    continue;
                }

                if (plan.Added == null)
                {
                    editor.ReplaceNode(plan.Old, plan.New);
                }
                else
                {
                    editor.InsertAfter(plan.Old, plan.Added);
                }
            }

            return editor.GetChangedDocument();
        }

        /// <summary>
        /// The edit for one diagnostic: replace <c>Old</c> with <c>New</c>, and put <c>Added</c> after it when not null.
        /// Null outside async functions, inside a lock, or for a shape with no faithful fix.
        /// </summary>
        private static (SyntaxNode Old, SyntaxNode New, SyntaxNode? Added)? Plan(
            SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax call
                || model.GetEnclosingSymbol(call.SpanStart, cancellationToken) is not IMethodSymbol { IsAsync: true }
                || InsideLock(call))
            {
                return null;
            }

            diagnostic.Properties.TryGetValue(UnawaitedTaskAnalyzer.ShapeKey, out var shape);
            if (shape == UnawaitedTaskAnalyzer.DiscardShape
                && call.Ancestors().OfType<AssignmentExpressionSyntax>().FirstOrDefault() is { Parent: ExpressionStatementSyntax } assignment
                && assignment.Left is IdentifierNameSyntax { Identifier.ValueText: "_" })
            {
                // _ = GetAsync();  ->  await GetAsync();   (and _ = GetAsync().ConfigureAwait(false); keeps its ConfigureAwait)
                return (assignment, SyntaxFactory.AwaitExpression(assignment.Right.WithoutTrivia()).WithTriviaFrom(assignment), null);
            }

            if (shape == UnawaitedTaskAnalyzer.LocalShape
                && call.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator }
                && declarator.Parent?.Parent is LocalDeclarationStatementSyntax statement
                && (statement.Parent is BlockSyntax || statement.Parent is SwitchSectionSyntax))
            {
                // var t = GetAsync();  ->  var t = GetAsync(); await t;
                var awaitStatement = SyntaxFactory.ExpressionStatement(
                        SyntaxFactory.AwaitExpression(SyntaxFactory.IdentifierName(declarator.Identifier.WithoutTrivia())))
                    .WithAdditionalAnnotations(Formatter.Annotation);
                return (statement, statement, awaitStatement);
            }

            return null; // a statement outside async code: nothing to await with
        }

        /// <summary>await is not allowed inside a lock statement.</summary>
        private static bool InsideLock(SyntaxNode node) =>
            node.Ancestors()
                .TakeWhile(a => a is not AnonymousFunctionExpressionSyntax && a is not LocalFunctionStatementSyntax && a is not MemberDeclarationSyntax)
                .OfType<LockStatementSyntax>()
                .Any();
    }
}
