using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace TaskSupervision.Analyzers
{
    /// <summary>
    /// TS0004: work started by Task.Run, Task.Factory.StartNew, an ITaskSupervisor Run method,
    /// ThreadPool.QueueUserWorkItem or new Thread, as a lambda or a method group, that captures HttpContext,
    /// HttpRequest, HttpResponse, a DbContext or a scoped [FromServices] parameter, or that reads
    /// IHttpContextAccessor.HttpContext. Work that is awaited or blocked on at once is not reported: the request is
    /// still running while it runs.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class CapturedRequestStateAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>Diagnostic property holding the type to resolve from the per-task scope; absent when there is no fix.</summary>
        internal const string ServiceTypeKey = "ServiceType";

        /// <summary>
        /// The .editorconfig option naming a project's own singleton services: full type names (namespace included,
        /// generic types without their arguments), separated by commas.
        /// </summary>
        internal const string SingletonTypesOption = "dotnet_code_quality.TS0004.singleton_types";

        /// <summary>Services registered as singletons by the framework: capturing one outlives no request.</summary>
        private static readonly ImmutableHashSet<string> KnownSingletons = ImmutableHashSet.Create(
            System.StringComparer.Ordinal,
            "Microsoft.Extensions.DependencyInjection.IServiceScopeFactory",
            "Microsoft.Extensions.Logging.ILogger",
            "Microsoft.Extensions.Logging.ILogger`1",
            "Microsoft.Extensions.Logging.ILoggerFactory",
            "System.Net.Http.IHttpClientFactory",
            "Microsoft.Extensions.Options.IOptions`1",
            "Microsoft.Extensions.Options.IOptionsMonitor`1",
            "Microsoft.Extensions.Configuration.IConfiguration",
            "Microsoft.Extensions.Configuration.IConfigurationRoot",
            "Microsoft.Extensions.Hosting.IHostApplicationLifetime",
            "Microsoft.Extensions.Hosting.IHostEnvironment",
            "Microsoft.AspNetCore.Hosting.IWebHostEnvironment",
            "Microsoft.AspNetCore.Http.IHttpContextAccessor",
            "System.TimeProvider");

        private static readonly char[] OptionSeparators = { ',', ';' };

        private static readonly ConcurrentDictionary<string, ImmutableHashSet<string>> s_parsedOptions = new(System.StringComparer.Ordinal);

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

                start.RegisterOperationAction(c => AnalyzeInvocation(c, types), OperationKind.Invocation);
                start.RegisterOperationAction(c => AnalyzeThreadCreation(c, types), OperationKind.ObjectCreation);
            });
        }

        private static void AnalyzeInvocation(OperationAnalysisContext context, KnownTypes types)
        {
            var invocation = (IInvocationOperation)context.Operation;
            var method = invocation.TargetMethod;
            if (types.IsThreadPoolStart(method))
            {
                if (IsAwaitedOrBlockedOnAtOnce(types.OutermostOfChain(invocation)))
                {
                    return; // the request waits for it: its state is still alive
                }
            }
            else if (!types.IsSupervisorRun(method) && !types.IsThreadPoolQueue(method))
            {
                return;
            }

            AnalyzeWork(context, types, invocation.Arguments);
        }

        private static void AnalyzeThreadCreation(OperationAnalysisContext context, KnownTypes types)
        {
            var creation = (IObjectCreationOperation)context.Operation;
            if (types.Thread != null && KnownTypes.Eq(creation.Type, types.Thread))
            {
                AnalyzeWork(context, types, creation.Arguments);
            }
        }

        private static void AnalyzeWork(OperationAnalysisContext context, KnownTypes types, ImmutableArray<IArgumentOperation> arguments)
        {
            var singletons = Singletons(context);
            foreach (var argument in arguments)
            {
                switch (KnownTypes.Unwrap(argument.Value))
                {
                    case IAnonymousFunctionOperation lambda:
                        AnalyzeLambda(context, types, singletons, lambda);
                        break;
                    case IMethodReferenceOperation group when group.Instance != null:
                        AnalyzeMethodGroup(context, types, singletons, group);
                        break;
                }
            }
        }

        /// <summary>
        /// <c>await Task.Run(...)</c>, <c>Task.Run(...).Wait()</c>, <c>.Result</c>, <c>.GetAwaiter().GetResult()</c>: the
        /// code that started the work waits for it right there. A stored task, or one passed on (to Task.WhenAll), is not.
        /// </summary>
        private static bool IsAwaitedOrBlockedOnAtOnce(IOperation task)
        {
            var parent = task.Parent;
            while (parent is IConversionOperation { IsImplicit: true } || parent is IParenthesizedOperation)
            {
                parent = parent.Parent;
            }

            switch (parent)
            {
                case IAwaitOperation:
                    return true;
                case IPropertyReferenceOperation property when property.Property.Name == "Result":
                    return true;
                case IInvocationOperation call when call.Instance != null:
                    if (call.TargetMethod.Name == "Wait")
                    {
                        return true;
                    }

                    return call.TargetMethod.Name == "GetAwaiter"
                        && call.Parent is IInvocationOperation { TargetMethod.Name: "GetResult" };
                default:
                    return false;
            }
        }

        /// <summary>The singleton types a project names in .editorconfig for the file being analyzed.</summary>
        private static ImmutableHashSet<string> Singletons(OperationAnalysisContext context)
        {
            var options = context.Options.AnalyzerConfigOptionsProvider.GetOptions(context.Operation.Syntax.SyntaxTree);
            if (!options.TryGetValue(SingletonTypesOption, out var value) || string.IsNullOrWhiteSpace(value))
            {
                return ImmutableHashSet<string>.Empty;
            }

            return s_parsedOptions.GetOrAdd(value, static v => v
                .Split(OptionSeparators, System.StringSplitOptions.RemoveEmptyEntries)
                .Select(name => name.Trim())
                .Where(name => name.Length > 0)
                .ToImmutableHashSet(System.StringComparer.Ordinal));
        }

        private static bool IsSingleton(ITypeSymbol type, ImmutableHashSet<string> configured)
        {
            var definition = type.OriginalDefinition;
            var metadataName = KnownTypes.FullMetadataName(definition);
            if (KnownSingletons.Contains(metadataName) || configured.Contains(metadataName))
            {
                return true;
            }

            if (configured.Count == 0)
            {
                return false;
            }

            // Also accept the display name without type arguments: MyApp.ICache for MyApp.ICache<T>.
            var tick = metadataName.IndexOf('`');
            return tick > 0 && configured.Contains(metadataName.Substring(0, tick));
        }

        private static void AnalyzeLambda(OperationAnalysisContext context, KnownTypes types, ImmutableHashSet<string> singletons, IAnonymousFunctionOperation lambda)
        {
            var span = lambda.Syntax.Span;
            var reported = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            foreach (var operation in lambda.Body.Descendants())
            {
                var kind = Classify(operation, types, singletons, span, out var type, out var symbol);
                if (kind == Capture.None || HasCapturedInstance(operation, types, singletons, span))
                {
                    continue; // nothing here, or the captured root was already reported (HttpContext.Request)
                }

                if (symbol != null && !reported.Add(symbol))
                {
                    continue; // one report per captured variable per lambda
                }

                Report(context, operation, kind, type);
            }
        }

        /// <summary><c>Task.Run(_db.SaveChangesAsync)</c>: the delegate captures its receiver.</summary>
        private static void AnalyzeMethodGroup(OperationAnalysisContext context, KnownTypes types, ImmutableHashSet<string> singletons, IMethodReferenceOperation group)
        {
            // From the root of the receiver chain outwards, report the first link that is request state.
            var chain = new List<IOperation>();
            for (var instance = group.Instance; instance != null; )
            {
                chain.Add(instance);
                instance = instance is IMemberReferenceOperation member ? member.Instance
                    : instance is IConversionOperation conversion ? conversion.Operand
                    : null;
            }

            for (var i = chain.Count - 1; i >= 0; i--)
            {
                var kind = Classify(chain[i], types, singletons, default, out var type, out _);
                if (kind != Capture.None)
                {
                    Report(context, chain[i], kind, type);
                    return;
                }
            }
        }

        private static void Report(OperationAnalysisContext context, IOperation operation, Capture kind, ITypeSymbol? type)
        {
            var properties = kind == Capture.Service && type != null
                ? ImmutableDictionary<string, string?>.Empty.Add(ServiceTypeKey, type.ToDisplayString())
                : ImmutableDictionary<string, string?>.Empty;
            var name = KnownTypes.Describe(operation.Syntax);
            if (operation is IPropertyReferenceOperation { Property.Name: "HttpContext" } && name.EndsWith("(...)", System.StringComparison.Ordinal))
            {
                name = "IHttpContextAccessor.HttpContext"; // a long receiver chain says less than the property it reads
            }

            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.CapturedRequestState, operation.Syntax.GetLocation(), properties, name));
        }

        private enum Capture
        {
            None,
            Http,
            Service,
        }

        /// <summary>Whether an operation reads request state that lives outside the lambda.</summary>
        private static Capture Classify(
            IOperation operation, KnownTypes types, ImmutableHashSet<string> singletons, TextSpan lambdaSpan, out ITypeSymbol? type, out ISymbol? symbol)
        {
            type = null;
            symbol = null;
            switch (operation)
            {
                case IPropertyReferenceOperation accessor when IsAccessorHttpContext(accessor.Property, types):
                    // Wherever the accessor came from, it reads the AsyncLocal the request flowed into the work.
                    symbol = accessor.Property;
                    type = accessor.Property.Type;
                    return Capture.Http;
                case IParameterReferenceOperation p:
                    symbol = p.Parameter;
                    type = p.Parameter.Type;
                    if (IsOutside(symbol, lambdaSpan) && types.IsFromServices(p.Parameter)
                        && !types.IsSupervisorType(type) && !IsSingleton(type, singletons))
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

        private static bool IsAccessorHttpContext(IPropertySymbol property, KnownTypes types) =>
            property.Name == "HttpContext" && types.HttpContextAccessor != null
            && (KnownTypes.Eq(property.ContainingType, types.HttpContextAccessor) || KnownTypes.Implements(property.ContainingType, types.HttpContextAccessor));

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
        private static bool HasCapturedInstance(IOperation operation, KnownTypes types, ImmutableHashSet<string> singletons, TextSpan lambdaSpan)
        {
            var instance = (operation as IMemberReferenceOperation)?.Instance;
            while (instance != null)
            {
                if (Classify(instance, types, singletons, lambdaSpan, out _, out _) != Capture.None)
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
