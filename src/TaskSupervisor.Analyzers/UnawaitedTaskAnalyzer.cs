using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0003: a task stored in a local that is never read afterwards (so never awaited, returned, passed on,
    /// stored elsewhere or read for its result); a discarded Task&lt;T&gt; (<c>_ = GetUserAsync()</c>); and a
    /// Task-returning call used as a statement in a function that is not async (CS4014 covers async ones).
    /// TS0005: a discarded plain Task (<c>_ = SaveAsync()</c>), kept apart so deliberate drops can be turned down alone.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class UnawaitedTaskAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>Diagnostic property telling the code fix which shape was found.</summary>
        internal const string ShapeKey = "Shape";

        /// <summary>Shape value for a task stored in a local.</summary>
        internal const string LocalShape = "Local";

        /// <summary>Shape value for a discarded task (TS0003 for Task&lt;T&gt;, TS0005 for Task).</summary>
        internal const string DiscardShape = "Discard";

        /// <summary>Shape value for a task-returning call used as a statement outside async code.</summary>
        internal const string StatementShape = "Statement";

        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Descriptors.Unawaited, Descriptors.DiscardedTask);

        /// <inheritdoc />
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                var types = KnownTypes.Create(start.Compilation);
                if (types.Task == null)
                {
                    return;
                }

                start.RegisterOperationBlockAction(c => AnalyzeLocals(c, types));
                start.RegisterOperationAction(c => AnalyzeDiscard(c, types), OperationKind.SimpleAssignment);
                start.RegisterOperationAction(c => AnalyzeStatement(c, types), OperationKind.ExpressionStatement);
            });
        }

        private static void AnalyzeLocals(OperationBlockAnalysisContext context, KnownTypes types)
        {
            var candidates = new List<(ILocalSymbol Local, IInvocationOperation Call)>();
            var read = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
            foreach (var block in context.OperationBlocks)
            {
                foreach (var operation in block.DescendantsAndSelf())
                {
                    switch (operation)
                    {
                        case IVariableDeclaratorOperation declarator
                            when types.IsTask(declarator.Symbol.Type)
                                && KnownTypes.Unwrap(declarator.Initializer?.Value) is IInvocationOperation call
                                && !IsAlreadyCompleted(call.TargetMethod, types):
                            candidates.Add((declarator.Symbol, call));
                            break;
                        case ILocalReferenceOperation reference when !IsWriteOnly(reference):
                            read.Add(reference.Local);
                            break;
                    }
                }
            }

            foreach (var (local, call) in candidates)
            {
                if (!read.Contains(local))
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.Unawaited,
                        call.Syntax.GetLocation(),
                        ImmutableDictionary<string, string?>.Empty.Add(ShapeKey, LocalShape),
                        KnownTypes.Describe(call.Syntax)));
                }
            }
        }

        private static void AnalyzeDiscard(OperationAnalysisContext context, KnownTypes types)
        {
            var assignment = (ISimpleAssignmentOperation)context.Operation;
            if (assignment.Target is not IDiscardOperation
                || assignment.Parent is not IExpressionStatementOperation
                || DroppedTask(assignment.Value, types) is not { } call)
            {
                return;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                types.IsTaskOfT(call.Type) ? Descriptors.Unawaited : Descriptors.DiscardedTask,
                call.Syntax.GetLocation(),
                ImmutableDictionary<string, string?>.Empty.Add(ShapeKey, DiscardShape),
                KnownTypes.Describe(call.Syntax)));
        }

        private static void AnalyzeStatement(OperationAnalysisContext context, KnownTypes types)
        {
            var statement = (IExpressionStatementOperation)context.Operation;
            if (DroppedTask(statement.Operation, types) is not { } call || IsInAsyncFunction(statement, context.ContainingSymbol))
            {
                return; // in async code the compiler's CS4014 already reports the call
            }

            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.Unawaited,
                call.Syntax.GetLocation(),
                ImmutableDictionary<string, string?>.Empty.Add(ShapeKey, StatementShape),
                KnownTypes.Describe(call.Syntax)));
        }

        /// <summary>
        /// The call whose task a value drops: the value itself, or the call under <c>.ConfigureAwait(...)</c>. Null when
        /// the value is no task, an already completed one, or thread-pool work (TS0001 reports it, through any chain).
        /// </summary>
        private static IInvocationOperation? DroppedTask(IOperation value, KnownTypes types)
        {
            if (KnownTypes.Unwrap(value) is not IInvocationOperation call)
            {
                return null;
            }

            if (call.TargetMethod.Name == "ConfigureAwait" && types.IsTask(call.Instance?.Type)
                && KnownTypes.Unwrap(call.Instance) is IInvocationOperation configured)
            {
                call = configured;
            }

            if (!types.IsTask(call.Type) || IsAlreadyCompleted(call.TargetMethod, types))
            {
                return null;
            }

            if (call.TargetMethod.Name == "ContinueWith" && types.IsTask(call.Instance?.Type) && !types.IsTaskOfT(call.Type))
            {
                return null; // task.ContinueWith(t => Log(t.Exception), OnlyOnFaulted): the continuation is how it is observed
            }

            // Follow the chain back to where the work started: Task.Run(...).ContinueWith(...) is TS0001's.
            for (IOperation? root = call; root is IInvocationOperation link; )
            {
                if (types.IsThreadPoolStart(link.TargetMethod))
                {
                    return null;
                }

                root = link.TargetMethod.Name is "ContinueWith" or "ConfigureAwait" ? KnownTypes.Unwrap(link.Instance)
                    : link.TargetMethod.Name == "Unwrap" && link.Arguments.Length == 1 ? KnownTypes.Unwrap(link.Arguments[0].Value)
                    : null;
            }

            return call;
        }

        /// <summary>Whether the innermost function around the operation (lambda, local function or member) is async.</summary>
        private static bool IsInAsyncFunction(IOperation operation, ISymbol containingSymbol)
        {
            for (var parent = operation.Parent; parent != null; parent = parent.Parent)
            {
                switch (parent)
                {
                    case IAnonymousFunctionOperation lambda:
                        return lambda.Symbol.IsAsync;
                    case ILocalFunctionOperation function:
                        return function.Symbol.IsAsync;
                }
            }

            return containingSymbol is IMethodSymbol { IsAsync: true };
        }

        /// <summary>Only the target of a plain assignment (<c>t = ...</c>) is not a read.</summary>
        private static bool IsWriteOnly(ILocalReferenceOperation reference) =>
            reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference;

        /// <summary>Task.FromResult, Task.FromException, Task.FromCanceled: nothing runs, nothing is lost.</summary>
        private static bool IsAlreadyCompleted(IMethodSymbol method, KnownTypes types) =>
            KnownTypes.Eq(method.ContainingType, types.Task) && method.Name.StartsWith("From", System.StringComparison.Ordinal);
    }
}
