using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0001: Task.Run / Task.Factory.StartNew whose task, followed through Unwrap / ConfigureAwait / ContinueWith,
    /// is discarded or used as a bare statement; and ThreadPool.QueueUserWorkItem / UnsafeQueueUserWorkItem, which
    /// give the caller nothing to observe at all.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class FireAndForgetAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Descriptors.FireAndForget);

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

                start.RegisterOperationAction(c => Analyze(c, types), OperationKind.Invocation);
            });
        }

        private static void Analyze(OperationAnalysisContext context, KnownTypes types)
        {
            var invocation = (IInvocationOperation)context.Operation;
            if (!types.IsThreadPoolQueue(invocation.TargetMethod)
                && !(types.IsThreadPoolStart(invocation.TargetMethod) && IsThrownAway(types.OutermostOfChain(invocation))))
            {
                return;
            }

            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.FireAndForget, invocation.Syntax.GetLocation(), KnownTypes.Describe(invocation.Syntax)));
        }

        /// <summary>A bare expression statement, or the value of <c>_ = ...</c>.</summary>
        internal static bool IsThrownAway(IOperation operation)
        {
            var parent = operation.Parent;
            while (parent is IConversionOperation conversion && conversion.IsImplicit)
            {
                parent = conversion.Parent;
            }

            if (parent is IExpressionStatementOperation)
            {
                return true;
            }

            return parent is ISimpleAssignmentOperation assignment
                && assignment.Target is IDiscardOperation
                && assignment.Parent is IExpressionStatementOperation;
        }
    }
}
