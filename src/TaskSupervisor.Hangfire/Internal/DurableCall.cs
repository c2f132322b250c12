using System.Linq.Expressions;
using System.Reflection;
using Hangfire.Common;
using Microsoft.Extensions.DependencyInjection;

namespace TaskSupervision.Hangfire.Internal;

/// <summary>
/// A method call on a service, checked to be storable: the same call Hangfire would make, with its arguments evaluated
/// once, at the start. Everything that could make the stored job differ from the in-process run is refused here, before
/// anything is stored.
/// </summary>
internal sealed class DurableCall
{
    private readonly object?[] _arguments;
    private readonly int[] _tokenPositions;

    private DurableCall(Type serviceType, MethodInfo method, object?[] arguments, int[] tokenPositions)
    {
        ServiceType = serviceType;
        Method = method;
        _arguments = arguments;
        _tokenPositions = tokenPositions;
        Job = new Job(serviceType, method, arguments);
    }

    public Type ServiceType { get; }

    public MethodInfo Method { get; }

    /// <summary>The job Hangfire stores; its arguments are the values the in-process run receives.</summary>
    public Job Job { get; }

    /// <summary>Checks the call and evaluates its arguments.</summary>
    /// <exception cref="ArgumentException">The call cannot be stored; the message says why.</exception>
    public static DurableCall Create<TService>(Expression<Func<TService, Task>> work)
    {
        Expression body = work.Body;
        while (body is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            body = convert.Operand;
        }

        if (body is not MethodCallExpression call)
        {
            throw new ArgumentException(
                $"Durable work must be one method call on the {typeof(TService).Name} parameter, such as s => s.SendAsync(orderId, CancellationToken.None); '{work}' is not a method call.",
                nameof(work));
        }

        if (call.Object != work.Parameters[0])
        {
            throw new ArgumentException(
                $"Durable work must call a method on the {typeof(TService).Name} parameter; '{work}' calls {call.Method.Name} on {(call.Object is null ? "a static method" : "a captured object")}. " +
                "A stored job cannot keep an object of this process: it resolves the service from the container when it runs, in any process.",
                nameof(work));
        }

        ParameterInfo[] parameters = call.Method.GetParameters();
        var arguments = new object?[parameters.Length];
        var tokenPositions = new List<int>();
        for (int i = 0; i < parameters.Length; i++)
        {
            ParameterInfo parameter = parameters[i];
            Expression argument = call.Arguments[i];
            if (ParameterFinder.Uses(argument, work.Parameters[0]))
            {
                throw new ArgumentException(
                    $"Argument '{parameter.Name}' of {call.Method.Name} uses the service itself; durable work stores its arguments as values, evaluated at the start.",
                    nameof(work));
            }

            if (parameter.ParameterType.IsByRef || parameter.IsOut)
            {
                throw new ArgumentException($"Parameter '{parameter.Name}' of {call.Method.Name} is passed by reference; a stored job cannot return values through it.", nameof(work));
            }

            if (typeof(Delegate).IsAssignableFrom(parameter.ParameterType) || typeof(Expression).IsAssignableFrom(parameter.ParameterType))
            {
                throw new ArgumentException(
                    $"Argument '{parameter.Name}' of {call.Method.Name} is a {parameter.ParameterType.Name}: a lambda and the locals it captures cannot be stored. Pass the data the work needs (an id) instead.",
                    nameof(work));
            }

            object? value = Evaluate(argument, parameter, call.Method, out string? problem);
            if (problem is not null)
            {
                throw new ArgumentException(problem, nameof(work));
            }

            if (parameter.ParameterType == typeof(CancellationToken))
            {
                if (value is CancellationToken token && token.CanBeCanceled)
                {
                    throw new ArgumentException(
                        $"Pass CancellationToken.None for '{parameter.Name}' of {call.Method.Name}: the work receives there the token of whoever runs it (the supervised task, or the Hangfire server).",
                        nameof(work));
                }

                tokenPositions.Add(i);
                arguments[i] = CancellationToken.None;
                continue;
            }

            if (value is Delegate)
            {
                throw new ArgumentException(
                    $"Argument '{parameter.Name}' of {call.Method.Name} is a delegate: a lambda and the locals it captures cannot be stored. Pass the data the work needs (an id) instead.",
                    nameof(work));
            }

            problem = CheckRoundTrip(value, parameter, call.Method);
            if (problem is not null)
            {
                throw new ArgumentException(problem, nameof(work));
            }

            arguments[i] = value;
        }

        try
        {
            return new DurableCall(typeof(TService), call.Method, arguments, [.. tokenPositions]);
        }
        catch (Exception exception) when (exception is NotSupportedException or ArgumentException)
        {
            throw new ArgumentException($"Hangfire cannot store a call of {call.Method.Name}: {exception.Message}", nameof(work), exception);
        }
    }

    /// <summary>Runs the call on <paramref name="service"/> with the work's token in place of every token argument.</summary>
    public Task Invoke(object service, CancellationToken cancellationToken)
    {
        object?[] arguments = _arguments;
        if (_tokenPositions.Length != 0)
        {
            // A copy per run: the evaluated values are shared by every restart, the token is the attempt's own.
            arguments = (object?[])_arguments.Clone();
            foreach (int position in _tokenPositions)
            {
                arguments[position] = cancellationToken;
            }
        }

        return Method.Invoke(service, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null) as Task
            ?? throw new InvalidOperationException($"{ServiceType.Name}.{Method.Name} returned a null task.");
    }

    private static object? Evaluate(Expression argument, ParameterInfo parameter, MethodInfo method, out string? problem)
    {
        problem = null;
        if (argument is ConstantExpression constant)
        {
            return constant.Value;
        }

        try
        {
            // Evaluated once, at the start, as Hangfire does: the job stores the value, not the expression.
            return Expression.Lambda<Func<object?>>(Expression.Convert(argument, typeof(object))).Compile(preferInterpretation: true)();
        }
        catch (Exception exception)
        {
            problem = $"Argument '{parameter.Name}' of {method.Name} could not be evaluated at the start: {exception.GetType().Name}: {exception.Message}";
            return null;
        }
    }

    private static string? CheckRoundTrip(object? value, ParameterInfo parameter, MethodInfo method)
    {
        if (value is null)
        {
            return null;
        }

        // Hangfire stores arguments as JSON. An argument that does not come back from JSON equal to what went in (a
        // stream, a DbContext, an HttpContext, an object without a way to set its state) would give the stored job
        // different input from the in-process run, so it is refused now rather than discovered on another machine.
        string first;
        string second;
        try
        {
            first = SerializationHelper.Serialize(value, parameter.ParameterType, SerializationOption.User);
            object? back = SerializationHelper.Deserialize(first, parameter.ParameterType, SerializationOption.User);
            second = SerializationHelper.Serialize(back, parameter.ParameterType, SerializationOption.User);
        }
        catch (Exception exception)
        {
            return $"Argument '{parameter.Name}' of {method.Name} ({value.GetType().Name}) cannot be stored as JSON ({exception.GetType().Name}: {exception.Message}). Pass an id or a plain data object instead.";
        }

        return string.Equals(first, second, StringComparison.Ordinal)
            ? null
            : $"Argument '{parameter.Name}' of {method.Name} ({value.GetType().Name}) does not survive a round trip through JSON: what a Hangfire server would receive differs from what was passed. Pass an id or a plain data object instead.";
    }

    /// <summary>Finds whether an expression uses the lambda's parameter.</summary>
    private sealed class ParameterFinder(ParameterExpression parameter) : ExpressionVisitor
    {
        private bool _found;

        public static bool Uses(Expression expression, ParameterExpression parameter)
        {
            var finder = new ParameterFinder(parameter);
            finder.Visit(expression);
            return finder._found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found |= node == parameter;
            return node;
        }
    }
}

/// <summary>Resolves the call's service in a fresh asynchronous scope per run.</summary>
internal static class DurableCallRunner
{
    public static async Task RunAsync(DurableCall call, IServiceScopeFactory scopes, CancellationToken cancellationToken)
    {
        AsyncServiceScope scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            object service = scope.ServiceProvider.GetRequiredService(call.ServiceType);
            await call.Invoke(service, cancellationToken).ConfigureAwait(false);
        }
    }
}
