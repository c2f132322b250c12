using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0004: a lambda given to Task.Run, Task.Factory.StartNew or an ITaskSupervisor Run method that captures
    /// HttpContext, HttpRequest, HttpResponse, a DbContext or a [FromServices] parameter.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class CapturedRequestStateAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>Diagnostic property holding the type to resolve from the per-task scope; absent when there is no fix.</summary>
        internal const string ServiceTypeKey = "ServiceType";

        /// <inheritdoc />
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Descriptors.CapturedRequestState);

        /// <inheritdoc />
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                var types = KnownTypes.Create(start.Compilation);
                if (types.HttpContext == null && types.DbContext == null
                    && types.FromServicesAttribute == null && types.FromServiceMetadata == null)
                {
                    return; // not a web or EF Core project: nothing to capture
                }

                start.RegisterOperationAction(c => Analyze(c, types), OperationKind.Invocation);
            });
        }

        private static void Analyze(OperationAnalysisContext context, KnownTypes types)
        {
            var invocation = (IInvocationOperation)context.Operation;
            if (!types.IsThreadPoolStart(invocation.TargetMethod) && !types.IsSupervisorRun(invocation.TargetMethod))
            {
                return;
            }

            foreach (var argument in invocation.Arguments)
            {
                if (KnownTypes.Unwrap(argument.Value) is IAnonymousFunctionOperation lambda)
                {
                    AnalyzeLambda(context, types, lambda);
                }
            }
        }

        private static void AnalyzeLambda(OperationAnalysisContext context, KnownTypes types, IAnonymousFunctionOperation lambda)
        {
            var span = lambda.Syntax.Span;
            foreach (var operation in lambda.Body.Descendants())
            {
                var kind = Classify(operation, types, span, out var type);
                if (kind == Capture.None || HasCapturedInstance(operation, types, span))
                {
                    continue; // nothing here, or the captured root was already reported (HttpContext.Request)
                }

                var properties = kind == Capture.Service && type != null
                    ? ImmutableDictionary<string, string?>.Empty.Add(ServiceTypeKey, type.ToDisplayString())
                    : ImmutableDictionary<string, string?>.Empty;
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.CapturedRequestState, operation.Syntax.GetLocation(), properties, KnownTypes.Describe(operation.Syntax)));
            }
        }

        private enum Capture
        {
            None,
            Http,
            Service,
        }

        /// <summary>Whether an operation reads request state that lives outside the lambda.</summary>
        private static Capture Classify(IOperation operation, KnownTypes types, TextSpan lambdaSpan, out ITypeSymbol? type)
        {
            type = null;
            ISymbol? symbol;
            switch (operation)
            {
                case IParameterReferenceOperation p:
                    symbol = p.Parameter;
                    type = p.Parameter.Type;
                    if (IsOutside(symbol, lambdaSpan) && types.IsFromServices(p.Parameter) && !types.IsSupervisorType(type))
                    {
                        return Capture.Service;
                    }

                    break;
                case ILocalReferenceOperation l:
                    symbol = l.Local;
                    type = l.Local.Type;
                    break;
                case IFieldReferenceOperation f when IsRootedOutside(f.Instance, lambdaSpan):
                    symbol = f.Field;
                    type = f.Field.Type;
                    break;
                case IPropertyReferenceOperation pr when pr.Arguments.Length == 0 && IsRootedOutside(pr.Instance, lambdaSpan):
                    symbol = pr.Property;
                    type = pr.Property.Type;
                    break;
                default:
                    return Capture.None;
            }

            if (!(operation is IFieldReferenceOperation || operation is IPropertyReferenceOperation) && !IsOutside(symbol, lambdaSpan))
            {
                return Capture.None;
            }

            if (types.IsDbContext(type))
            {
                return Capture.Service;
            }

            return types.IsHttpState(type) ? Capture.Http : Capture.None;
        }

        /// <summary>A member access whose receiver chain starts outside the lambda (this, a static, a captured local or parameter).</summary>
        private static bool IsRootedOutside(IOperation? instance, TextSpan lambdaSpan)
        {
            while (true)
            {
                switch (instance)
                {
                    case null:
                    case IInstanceReferenceOperation:
                        return true;
                    case IParameterReferenceOperation p:
                        return IsOutside(p.Parameter, lambdaSpan);
                    case ILocalReferenceOperation l:
                        return IsOutside(l.Local, lambdaSpan);
                    case IMemberReferenceOperation m:
                        instance = m.Instance;
                        break;
                    case IConversionOperation c:
                        instance = c.Operand;
                        break;
                    default:
                        return false;
                }
            }
        }

        /// <summary>True when the receiver chain of a member access already holds a reported capture.</summary>
        private static bool HasCapturedInstance(IOperation operation, KnownTypes types, TextSpan lambdaSpan)
        {
            var instance = (operation as IMemberReferenceOperation)?.Instance;
            while (instance != null)
            {
                if (Classify(instance, types, lambdaSpan, out _) != Capture.None)
                {
                    return true;
                }

                instance = instance is IMemberReferenceOperation member ? member.Instance
                    : instance is IConversionOperation conversion ? conversion.Operand
                    : null;
            }

            return false;
        }

        private static bool IsOutside(ISymbol symbol, TextSpan lambdaSpan)
        {
            foreach (var reference in symbol.DeclaringSyntaxReferences)
            {
                if (lambdaSpan.Contains(reference.Span))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
