using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace TaskSupervision.Analyzers
{
    /// <summary>The types the rules look for, resolved once per compilation by metadata name.</summary>
    internal sealed class KnownTypes
    {
        private KnownTypes(Compilation compilation)
        {
            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            TaskFactory = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskFactory");
            TaskFactoryOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskFactory`1");
            EventArgs = compilation.GetTypeByMetadataName("System.EventArgs");
            ServiceProvider = compilation.GetTypeByMetadataName("System.IServiceProvider");
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
            TaskSupervisor = compilation.GetTypeByMetadataName("TaskSupervision.ITaskSupervisor");
            HttpContext = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpContext");
            HttpRequest = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpRequest");
            HttpResponse = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.HttpResponse");
            DbContext = compilation.GetTypeByMetadataName("Microsoft.EntityFrameworkCore.DbContext");
            FromServicesAttribute = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Mvc.FromServicesAttribute");
            FromServiceMetadata = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.Metadata.IFromServiceMetadata");
            TaskExtensions = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskExtensions");
            ThreadPool = compilation.GetTypeByMetadataName("System.Threading.ThreadPool");
            Thread = compilation.GetTypeByMetadataName("System.Threading.Thread");
            HttpContextAccessor = compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Http.IHttpContextAccessor");
        }

        public INamedTypeSymbol? Task { get; }
        public INamedTypeSymbol? TaskOfT { get; }
        public INamedTypeSymbol? TaskFactory { get; }
        public INamedTypeSymbol? TaskFactoryOfT { get; }
        public INamedTypeSymbol? EventArgs { get; }
        public INamedTypeSymbol? ServiceProvider { get; }
        public INamedTypeSymbol? CancellationToken { get; }
        public INamedTypeSymbol? TaskSupervisor { get; }
        public INamedTypeSymbol? HttpContext { get; }
        public INamedTypeSymbol? HttpRequest { get; }
        public INamedTypeSymbol? HttpResponse { get; }
        public INamedTypeSymbol? DbContext { get; }
        public INamedTypeSymbol? FromServicesAttribute { get; }
        public INamedTypeSymbol? FromServiceMetadata { get; }
        public INamedTypeSymbol? TaskExtensions { get; }
        public INamedTypeSymbol? ThreadPool { get; }
        public INamedTypeSymbol? Thread { get; }
        public INamedTypeSymbol? HttpContextAccessor { get; }

        public static KnownTypes Create(Compilation compilation) => new KnownTypes(compilation);

        /// <summary>True for Task and Task&lt;T&gt; (not for types derived from them).</summary>
        public bool IsTask(ITypeSymbol? type) =>
            type != null && (Eq(type, Task) || Eq(type.OriginalDefinition, TaskOfT));

        public bool IsTaskOfT(ITypeSymbol? type) => type != null && Eq(type.OriginalDefinition, TaskOfT);

        /// <summary>Task.Run(...) or Task.Factory.StartNew(...) (any overload).</summary>
        public bool IsThreadPoolStart(IMethodSymbol method) =>
            (method.Name == "Run" && Eq(method.ContainingType, Task))
            || (method.Name == "StartNew"
                && (Eq(method.ContainingType, TaskFactory) || Eq(method.ContainingType.OriginalDefinition, TaskFactoryOfT)));

        /// <summary>ThreadPool.QueueUserWorkItem or ThreadPool.UnsafeQueueUserWorkItem (any overload).</summary>
        public bool IsThreadPoolQueue(IMethodSymbol method) =>
            (method.Name == "QueueUserWorkItem" || method.Name == "UnsafeQueueUserWorkItem") && Eq(method.ContainingType, ThreadPool);

        /// <summary>
        /// Follows a task through <c>.Unwrap()</c>, <c>.ConfigureAwait(...)</c> and <c>.ContinueWith(...)</c> to the
        /// outermost value built from it: the value whose fate decides whether anyone observes the work.
        /// </summary>
        public IOperation OutermostOfChain(IOperation task)
        {
            var current = task;
            while (true)
            {
                var parent = current.Parent;
                while (parent is IConversionOperation conversion && conversion.IsImplicit)
                {
                    parent = conversion.Parent;
                }

                if (parent is IArgumentOperation argument)
                {
                    parent = argument.Parent;
                }

                if (parent is not IInvocationOperation link || !IsChainLink(link, current))
                {
                    return current;
                }

                current = link;
            }
        }

        /// <summary>True when <paramref name="link"/> is Unwrap / ConfigureAwait / ContinueWith called on <paramref name="task"/>.</summary>
        private bool IsChainLink(IInvocationOperation link, IOperation task)
        {
            var method = link.TargetMethod;
            switch (method.Name)
            {
                case "ConfigureAwait":
                case "ContinueWith":
                    return (Eq(method.ContainingType, Task) || Eq(method.ContainingType.OriginalDefinition, TaskOfT))
                        && link.Instance != null && Skip(link.Instance) == task;
                case "Unwrap":
                    return Eq(method.ContainingType, TaskExtensions)
                        && link.Arguments.Length == 1 && Skip(link.Arguments[0].Value) == task;
                default:
                    return false;
            }

            static IOperation Skip(IOperation operation)
            {
                while (operation is IConversionOperation conversion && conversion.IsImplicit)
                {
                    operation = conversion.Operand;
                }

                return operation;
            }
        }

        /// <summary>ITaskSupervisor itself or an interface deriving from it.</summary>
        public bool IsSupervisorType(ITypeSymbol? type)
        {
            if (type == null || TaskSupervisor == null)
            {
                return false;
            }

            if (Eq(type, TaskSupervisor))
            {
                return true;
            }

            if (type.TypeKind != TypeKind.Interface)
            {
                return false;
            }

            foreach (var i in type.AllInterfaces)
            {
                if (Eq(i, TaskSupervisor))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A Run... method of ITaskSupervisor, of a type implementing it, or an extension method on it.</summary>
        public bool IsSupervisorRun(IMethodSymbol method)
        {
            if (TaskSupervisor == null || !method.Name.StartsWith("Run", System.StringComparison.Ordinal))
            {
                return false;
            }

            if (method.ReducedFrom != null)
            {
                return IsSupervisorType(method.ReducedFrom.Parameters[0].Type) || Implements(method.ReducedFrom.Parameters[0].Type, TaskSupervisor);
            }

            return IsSupervisorType(method.ContainingType) || Implements(method.ContainingType, TaskSupervisor);
        }

        public bool IsEventArgs(ITypeSymbol? type) => EventArgs != null && DerivesFrom(type, EventArgs);

        public bool IsHttpState(ITypeSymbol? type) =>
            (HttpContext != null && DerivesFrom(type, HttpContext))
            || (HttpRequest != null && DerivesFrom(type, HttpRequest))
            || (HttpResponse != null && DerivesFrom(type, HttpResponse));

        public bool IsDbContext(ITypeSymbol? type) => DbContext != null && DerivesFrom(type, DbContext);

        /// <summary>A parameter bound from services: [FromServices] or any attribute implementing IFromServiceMetadata.</summary>
        public bool IsFromServices(IParameterSymbol parameter)
        {
            foreach (var attribute in parameter.GetAttributes())
            {
                var type = attribute.AttributeClass;
                if (type == null)
                {
                    continue;
                }

                if ((FromServicesAttribute != null && DerivesFrom(type, FromServicesAttribute))
                    || (FromServiceMetadata != null && Implements(type, FromServiceMetadata)))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The metadata name with its namespace (<c>Microsoft.Extensions.Logging.ILogger`1</c>; nested types joined by '+').</summary>
        public static string FullMetadataName(ITypeSymbol type)
        {
            var name = type.MetadataName;
            for (var outer = type.ContainingType; outer != null; outer = outer.ContainingType)
            {
                name = outer.MetadataName + "+" + name;
            }

            var ns = type.ContainingNamespace;
            return ns == null || ns.IsGlobalNamespace ? name : ns.ToDisplayString() + "." + name;
        }

        public static bool DerivesFrom(ITypeSymbol? type, INamedTypeSymbol baseType)
        {
            for (var current = type; current != null; current = current.BaseType)
            {
                if (Eq(current, baseType))
                {
                    return true;
                }
            }

            return false;
        }

        public static bool Implements(ITypeSymbol? type, INamedTypeSymbol @interface)
        {
            if (type == null)
            {
                return false;
            }

            foreach (var i in type.AllInterfaces)
            {
                if (Eq(i, @interface))
                {
                    return true;
                }
            }

            return false;
        }

        public static bool Eq(ISymbol? a, ISymbol? b) => a != null && SymbolEqualityComparer.Default.Equals(a, b);

        /// <summary>Skips implicit conversions and delegate creations to the operation the user wrote.</summary>
        public static IOperation? Unwrap(IOperation? operation)
        {
            while (true)
            {
                switch (operation)
                {
                    case IConversionOperation conversion when conversion.IsImplicit:
                        operation = conversion.Operand;
                        break;
                    case IDelegateCreationOperation creation:
                        operation = creation.Target;
                        break;
                    default:
                        return operation;
                }
            }
        }

        /// <summary>Names an expression in a message: its text, or its head followed by "(...)" when it is long.</summary>
        public static string Describe(SyntaxNode node)
        {
            var text = node.ToString();
            if (text.Length <= 60 && text.IndexOf('\n') < 0)
            {
                return text;
            }

            var paren = text.IndexOf('(');
            return paren > 0 ? text.Substring(0, paren) + "(...)" : text.Substring(0, 57) + "...";
        }
    }
}
