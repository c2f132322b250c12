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
using Microsoft.CodeAnalysis.Simplification;

namespace TaskSupervision.Analyzers
{
    /// <summary>TS0001 fix: start the work through an ITaskSupervisor field, property or parameter in reach.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(FireAndForgetCodeFixProvider)), Shared]
    public sealed class FireAndForgetCodeFixProvider : CodeFixProvider
    {
        /// <inheritdoc />
        public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(Descriptors.FireAndForget.Id);

        /// <inheritdoc />
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
            if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax invocation)
            {
                return;
            }

            var supervisor = FindSupervisor(model, invocation.SpanStart, context.CancellationToken);
            var replacement = supervisor == null ? null : Rewrite(model, invocation, supervisor, context.CancellationToken);
            if (replacement == null)
            {
                return; // no supervisor in reach, or a shape we cannot rewrite faithfully: the warning stands alone
            }

            var title = $"Start it with {supervisor}.Run(...)";
            context.RegisterCodeFix(
                CodeAction.Create(
                    title,
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(invocation, replacement))),
                    equivalenceKey: nameof(FireAndForgetCodeFixProvider)),
                diagnostic);
        }

        /// <summary>The name of a parameter, field or property of type ITaskSupervisor usable at <paramref name="position"/>.</summary>
        private static string? FindSupervisor(SemanticModel model, int position, CancellationToken cancellationToken)
        {
            var types = KnownTypes.Create(model.Compilation);
            var enclosing = model.GetEnclosingSymbol(position, cancellationToken);
            while (enclosing is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction } function)
            {
                enclosing = function.ContainingSymbol;
            }

            var inStaticContext = enclosing == null || enclosing.IsStatic;
            var candidates = model.LookupSymbols(position)
                .Where(s => s switch
                {
                    IParameterSymbol p => types.IsSupervisorType(p.Type),
                    IFieldSymbol f => types.IsSupervisorType(f.Type) && (f.IsStatic || !inStaticContext),
                    IPropertySymbol p => types.IsSupervisorType(p.Type) && !p.IsIndexer && p.GetMethod != null && (p.IsStatic || !inStaticContext),
                    _ => false,
                })
                .OrderBy(s => s switch
                {
                    // A primary-constructor parameter comes last: a field initialized from it is the better choice.
                    IParameterSymbol { ContainingSymbol: IMethodSymbol { MethodKind: MethodKind.Constructor } ctor }
                        when !KnownTypes.Eq(ctor, enclosing) => 3,
                    IParameterSymbol => 0,
                    IFieldSymbol => 1,
                    _ => 2,
                })
                .ThenBy(s => s.Name, System.StringComparer.Ordinal);
            return candidates.FirstOrDefault()?.Name;
        }

        /// <summary><c>Task.Run(() => body)</c> becomes <c>supervisor.Run(_ => body)</c>; null when that would not be faithful.</summary>
        private static InvocationExpressionSyntax? Rewrite(SemanticModel model, InvocationExpressionSyntax invocation, string supervisor, CancellationToken cancellationToken)
        {
            // Only the plain one-argument form: a token, creation options or scheduler would be silently dropped.
            if (invocation.ArgumentList.Arguments.Count != 1
                || invocation.ArgumentList.Arguments[0].Expression is not ParenthesizedLambdaExpressionSyntax lambda
                || lambda.ParameterList.Parameters.Count != 0
                || model.GetTypeInfo(lambda, cancellationToken).ConvertedType is not INamedTypeSymbol { DelegateInvokeMethod: { } invoke })
            {
                return null;
            }

            var types = KnownTypes.Create(model.Compilation);
            CSharpSyntaxNode body;
            if (types.IsTask(invoke.ReturnType))
            {
                body = lambda.Body; // Func<Task> / Func<Task<T>>: the body already yields the task
            }
            else if (invoke.ReturnsVoid && !lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword))
            {
                // Action: run the statements, then report completion.
                var returnCompleted = SyntaxFactory.ReturnStatement(
                    SyntaxFactory.ParseExpression("System.Threading.Tasks.Task.CompletedTask").WithAdditionalAnnotations(Simplifier.Annotation));
                if (lambda.Body is BlockSyntax block)
                {
                    if (ContainsReturn(block))
                    {
                        return null;
                    }

                    body = block.AddStatements(returnCompleted);
                }
                else
                {
                    body = SyntaxFactory.Block(SyntaxFactory.ExpressionStatement((ExpressionSyntax)lambda.Body), returnCompleted);
                }
            }
            else
            {
                return null; // Func<T> with a non-task T: nothing to supervise faithfully
            }

            var newLambda = SyntaxFactory.SimpleLambdaExpression(SyntaxFactory.Parameter(SyntaxFactory.Identifier("_")))
                .WithModifiers(lambda.Modifiers)
                .WithArrowToken(lambda.ArrowToken)
                .WithBody(body);
            return SyntaxFactory.InvocationExpression(
                    SyntaxFactory.MemberAccessExpression(
                        SyntaxKind.SimpleMemberAccessExpression,
                        SyntaxFactory.IdentifierName(supervisor),
                        SyntaxFactory.IdentifierName("Run")),
                    invocation.ArgumentList.WithArguments(
                        SyntaxFactory.SingletonSeparatedList(invocation.ArgumentList.Arguments[0].WithExpression(newLambda))))
                .WithTriviaFrom(invocation)
                .WithAdditionalAnnotations(Microsoft.CodeAnalysis.Formatting.Formatter.Annotation);
        }

        /// <summary>A return statement of the lambda itself (not of a nested function).</summary>
        private static bool ContainsReturn(BlockSyntax block) =>
            block.DescendantNodes(n => n is not AnonymousFunctionExpressionSyntax && n is not LocalFunctionStatementSyntax)
                .OfType<ReturnStatementSyntax>()
                .Any();
    }
}
