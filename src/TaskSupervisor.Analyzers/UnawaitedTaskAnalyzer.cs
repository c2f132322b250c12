using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0003: a task stored in a local that is never read afterwards (so never awaited, returned, passed on,
    /// stored elsewhere or read for its result), and a discarded Task&lt;T&gt; (<c>_ = GetUserAsync()</c>).
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class UnawaitedTaskAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>Diagnostic property telling the code fix which shape was found.</summary>
        internal const string ShapeKey = "Shape";

        /// <summary>Shape value for a task stored in a local.</summary>
        internal const string LocalShape = "Local";

        /// <summary>Shape value for a discarded Task&lt;T&gt;.</summary>
        internal const string DiscardShape = "Discard";

        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Descriptors.Unawaited);

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
                || KnownTypes.Unwrap(assignment.Value) is not IInvocationOperation call
                || !types.IsTaskOfT(call.Type)
                || types.IsThreadPoolStart(call.TargetMethod) // TS0001 reports those
                || IsAlreadyCompleted(call.TargetMethod, types))
            {
                return;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.Unawaited,
                call.Syntax.GetLocation(),
                ImmutableDictionary<string, string?>.Empty.Add(ShapeKey, DiscardShape),
                KnownTypes.Describe(call.Syntax)));
        }

        /// <summary>Only the target of a plain assignment (<c>t = ...</c>) is not a read.</summary>
        private static bool IsWriteOnly(ILocalReferenceOperation reference) =>
            reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference;

        /// <summary>Task.FromResult, Task.FromException, Task.FromCanceled: nothing runs, nothing is lost.</summary>
        private static bool IsAlreadyCompleted(IMethodSymbol method, KnownTypes types) =>
            KnownTypes.Eq(method.ContainingType, types.Task) && method.Name.StartsWith("From", System.StringComparison.Ordinal);
    }
}
