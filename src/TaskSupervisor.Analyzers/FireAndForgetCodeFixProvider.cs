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
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Simplification;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0001 fix: start the work through an ITaskSupervisor field, property or parameter in reach. A trailing
    /// <c>.ConfigureAwait(...)</c> or <c>.Unwrap()</c> goes with it; the supervisor's token is passed to calls in the
    /// work that take a CancellationToken and were left at its default.
    /// </summary>
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

            var outer = OuterChain(invocation);
            var supervisor = outer == null ? null : FindSupervisor(model, invocation.SpanStart, context.CancellationToken);
            var replacement = supervisor == null ? null : Rewrite(model, invocation, supervisor, context.CancellationToken);
            if (outer == null || replacement == null)
            {
                return; // no supervisor in reach, or a shape we cannot rewrite faithfully: the warning stands alone
            }

            var title = $"Start it with {supervisor}.Run(...)";
            context.RegisterCodeFix(
                CodeAction.Create(
                    title,
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(outer, replacement.WithTriviaFrom(outer)))),
                    equivalenceKey: nameof(FireAndForgetCodeFixProvider)),
                diagnostic);
        }

        /// <summary>
        /// The expression to replace: the start call, or the call with the <c>.ConfigureAwait(...)</c> / <c>.Unwrap()</c>
        /// links after it (a supervised task needs neither). Null after a ContinueWith, or when the task is an
        /// argument (<c>TaskExtensions.Unwrap(Task.Run(...))</c>): the continuation has no supervised equivalent.
        /// </summary>
        private static ExpressionSyntax? OuterChain(InvocationExpressionSyntax invocation)
        {
            ExpressionSyntax outer = invocation;
            while (outer.Parent is MemberAccessExpressionSyntax access && access.Expression == outer
                && access.Parent is InvocationExpressionSyntax link && link.Expression == access)
            {
                var name = access.Name.Identifier.ValueText;
                if (name != "ConfigureAwait" && name != "Unwrap")
                {
                    return null;
                }

                outer = link;
            }

            return outer.Parent is ArgumentSyntax ? null : outer;
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
            var tokenName = "_";
            var original = lambda.Body;
            var tokenCalls = CallsWithDefaultToken(model, lambda, types, cancellationToken);
            if (tokenCalls.Count > 0)
            {
                tokenName = FreeName(model, lambda, cancellationToken);
                original = original.ReplaceNodes(tokenCalls.Keys, (call, rewritten) => PassToken(rewritten, tokenCalls[call], tokenName));
            }

            CSharpSyntaxNode body;
            if (types.IsTask(invoke.ReturnType))
            {
                body = original; // Func<Task> / Func<Task<T>>: the body already yields the task
            }
            else if (invoke.ReturnsVoid && !lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword))
            {
                // Action: run the statements, then report completion.
                var returnCompleted = SyntaxFactory.ReturnStatement(
                    SyntaxFactory.ParseExpression("System.Threading.Tasks.Task.CompletedTask").WithAdditionalAnnotations(Simplifier.Annotation));
                if (original is BlockSyntax block)
                {
                    if (ContainsReturn(block))
                    {
                        return null;
                    }

                    body = block.AddStatements(returnCompleted);
                }
                else
                {
                    body = SyntaxFactory.Block(SyntaxFactory.ExpressionStatement((ExpressionSyntax)original), returnCompleted);
                }
            }
            else
            {
                return null; // Func<T> with a non-task T: nothing to supervise faithfully
            }

            var newLambda = SyntaxFactory.SimpleLambdaExpression(SyntaxFactory.Parameter(SyntaxFactory.Identifier(tokenName)))
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

        /// <summary>
        /// Calls made by the lambda itself (not by a nested function) that have a CancellationToken parameter left at its
        /// default, with the argument to add: positional when it comes next, named otherwise.
        /// </summary>
        private static Dictionary<InvocationExpressionSyntax, (string? Name, bool Positional)> CallsWithDefaultToken(
            SemanticModel model, ParenthesizedLambdaExpressionSyntax lambda, KnownTypes types, CancellationToken cancellationToken)
        {
            var calls = new Dictionary<InvocationExpressionSyntax, (string? Name, bool Positional)>();
            if (types.CancellationToken == null)
            {
                return calls;
            }

            var own = lambda.Body.DescendantNodesAndSelf(n => n == lambda.Body || (n is not AnonymousFunctionExpressionSyntax && n is not LocalFunctionStatementSyntax));
            foreach (var call in own.OfType<InvocationExpressionSyntax>())
            {
                if (model.GetOperation(call, cancellationToken) is not IInvocationOperation operation)
                {
                    continue;
                }

                foreach (var argument in operation.Arguments)
                {
                    if (argument.ArgumentKind != ArgumentKind.DefaultValue || argument.Parameter == null
                        || !KnownTypes.Eq(argument.Parameter.Type, types.CancellationToken))
                    {
                        continue;
                    }

                    // An extension method called as one has its receiver as parameter 0 but not in the argument list.
                    var ordinal = argument.Parameter.Ordinal;
                    if (operation.TargetMethod.IsExtensionMethod && call.Expression is MemberAccessExpressionSyntax)
                    {
                        ordinal--;
                    }

                    var written = call.ArgumentList.Arguments;
                    var positional = written.Count == ordinal && !written.Any(a => a.NameColon != null);
                    calls[call] = (argument.Parameter.Name, positional);
                    break;
                }
            }

            return calls;
        }

        private static InvocationExpressionSyntax PassToken(InvocationExpressionSyntax call, (string? Name, bool Positional) parameter, string token)
        {
            var argument = SyntaxFactory.Argument(SyntaxFactory.IdentifierName(token));
            if (!parameter.Positional && parameter.Name != null)
            {
                argument = argument.WithNameColon(SyntaxFactory.NameColon(SyntaxFactory.IdentifierName(parameter.Name)));
            }

            return call.WithArgumentList(call.ArgumentList.AddArguments(argument));
        }

        /// <summary>"ct", or "cancellationToken", "ct2", ... when the name is taken where the lambda is or inside it.</summary>
        private static string FreeName(SemanticModel model, ParenthesizedLambdaExpressionSyntax lambda, CancellationToken cancellationToken)
        {
            var taken = new HashSet<string>(model.LookupSymbols(lambda.SpanStart).Select(s => s.Name), System.StringComparer.Ordinal);
            foreach (var node in lambda.Body.DescendantNodesAndSelf())
            {
                if (node is IdentifierNameSyntax identifier)
                {
                    taken.Add(identifier.Identifier.ValueText);
                }
                else if (model.GetDeclaredSymbol(node, cancellationToken) is { } declared)
                {
                    taken.Add(declared.Name);
                }
            }

            foreach (var candidate in new[] { "ct", "cancellationToken" })
            {
                if (!taken.Contains(candidate))
                {
                    return candidate;
                }
            }

            var i = 2;
            while (taken.Contains("ct" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                i++;
            }

            return "ct" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>A return statement of the lambda itself (not of a nested function).</summary>
        private static bool ContainsReturn(BlockSyntax block) =>
            block.DescendantNodes(n => n is not AnonymousFunctionExpressionSyntax && n is not LocalFunctionStatementSyntax)
                .OfType<ReturnStatementSyntax>()
                .Any();
    }
}
