using System.Collections.Immutable;
using System.Composition;
using System.Linq;
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
    /// TS0003 fix, only inside async functions: <c>_ = GetAsync();</c> becomes <c>await GetAsync();</c>, and
    /// <c>var t = GetAsync();</c> is followed by <c>await t;</c>.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UnawaitedTaskCodeFixProvider)), Shared]
    public sealed class UnawaitedTaskCodeFixProvider : CodeFixProvider
    {
        /// <inheritdoc />
        public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.Unawaited.Id);

        /// <inheritdoc />
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc />
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            var diagnostic = context.Diagnostics[0];
            if (root == null || model == null
                || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax call
                || model.GetEnclosingSymbol(call.SpanStart, context.CancellationToken) is not IMethodSymbol { IsAsync: true }
                || InsideLock(call))
            {
                return;
            }

            diagnostic.Properties.TryGetValue(UnawaitedTaskAnalyzer.ShapeKey, out var shape);
            SyntaxNode? oldNode = null;
            SyntaxNode[] newNodes = System.Array.Empty<SyntaxNode>();
            if (shape == UnawaitedTaskAnalyzer.DiscardShape
                && call.Parent is AssignmentExpressionSyntax assignment && assignment.Parent is ExpressionStatementSyntax)
            {
                // _ = GetAsync();  ->  await GetAsync();
                oldNode = assignment;
                newNodes = new SyntaxNode[]
                {
                    SyntaxFactory.AwaitExpression(call.WithoutTrivia()).WithTriviaFrom(assignment),
                };
            }
            else if (shape == UnawaitedTaskAnalyzer.LocalShape
                && call.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator }
                && declarator.Parent?.Parent is LocalDeclarationStatementSyntax statement
                && (statement.Parent is BlockSyntax || statement.Parent is SwitchSectionSyntax))
            {
                // var t = GetAsync();  ->  var t = GetAsync(); await t;
                var awaitStatement = SyntaxFactory.ExpressionStatement(
                        SyntaxFactory.AwaitExpression(SyntaxFactory.IdentifierName(declarator.Identifier.WithoutTrivia())))
                    .WithAdditionalAnnotations(Formatter.Annotation);
                oldNode = statement;
                newNodes = new SyntaxNode[] { statement, awaitStatement };
            }

            if (oldNode == null)
            {
                return;
            }

            var replaced = oldNode;
            var replacements = newNodes;
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Await the task",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(
                        replacements.Length == 1
                            ? root.ReplaceNode(replaced, replacements[0])
                            : root.ReplaceNode(replaced, replacements))),
                    equivalenceKey: nameof(UnawaitedTaskCodeFixProvider)),
                diagnostic);
        }

        /// <summary>await is not allowed inside a lock statement.</summary>
        private static bool InsideLock(SyntaxNode node) =>
            node.Ancestors()
                .TakeWhile(a => a is not AnonymousFunctionExpressionSyntax && a is not LocalFunctionStatementSyntax && a is not MemberDeclarationSyntax)
                .OfType<LockStatementSyntax>()
                .Any();
    }
}
