using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TaskSupervision.Analyzers.Tests;

/// <summary>
/// Minimal stand-ins for TaskSupervisor, ASP.NET Core, EF Core, DI and xunit, compiled once into an in-memory assembly
/// that every test source references (as a package would be referenced), and the running framework's assemblies.
/// </summary>
internal static class Stubs
{
    public const string Source = """
        #nullable enable
        using System;
        using System.Threading;
        using System.Threading.Tasks;

        namespace TaskSupervision
        {
            public interface ITaskSupervisor : IAsyncDisposable
            {
                SupervisedTask Run(Func<CancellationToken, Task> work, TaskOptions? options = null);
                SupervisedTask<T> Run<T>(Func<CancellationToken, Task<T>> work, TaskOptions? options = null);
                SupervisedTask Run(string key, Func<CancellationToken, Task> work, TaskOptions? options = null);
                SupervisedTask Run(Func<IServiceProvider, CancellationToken, Task> work, TaskOptions? options = null);
            }

            public class SupervisedTask { public Task Task { get; } = Task.CompletedTask; }
            public sealed class SupervisedTask<T> : SupervisedTask { public new Task<T> Task { get; } = null!; }
            public sealed class TaskOptions { }
        }

        namespace Microsoft.AspNetCore.Http
        {
            public abstract class HttpContext
            {
                public abstract HttpRequest Request { get; }
                public abstract HttpResponse Response { get; }
                public abstract IServiceProvider RequestServices { get; }
            }

            public abstract class HttpRequest { public abstract string Path { get; } }
            public abstract class HttpResponse { public abstract int StatusCode { get; set; } public abstract Task CompleteAsync(); }
            public interface IHttpContextAccessor { HttpContext? HttpContext { get; set; } }
        }

        namespace Microsoft.Extensions.Logging
        {
            public interface ILogger { }
            public interface ILogger<out TCategoryName> : ILogger { }
            public interface ILoggerFactory { }
        }

        namespace Microsoft.Extensions.Options
        {
            public interface IOptions<out TOptions> where TOptions : class { TOptions Value { get; } }
        }

        namespace Microsoft.Extensions.Configuration
        {
            public interface IConfiguration { string? this[string key] { get; } }
        }

        namespace Microsoft.Extensions.Hosting
        {
            public interface IHostApplicationLifetime { CancellationToken ApplicationStopping { get; } }
        }

        namespace System.Net.Http
        {
            public interface IHttpClientFactory { HttpClient CreateClient(string name); }
        }

        namespace External
        {
            /// <summary>A base class and an interface from a referenced assembly, whose void members code cannot change.</summary>
            public abstract class Page { public abstract void OnAppearing(); }
            public interface IStartable { void Start(); }
        }

        namespace Microsoft.AspNetCore.Http.Metadata
        {
            public interface IFromServiceMetadata { }
        }

        namespace Microsoft.AspNetCore.Mvc
        {
            [AttributeUsage(AttributeTargets.Parameter)]
            public class FromServicesAttribute : Attribute, Microsoft.AspNetCore.Http.Metadata.IFromServiceMetadata { }

            public abstract class ControllerBase
            {
                public Microsoft.AspNetCore.Http.HttpContext HttpContext { get; } = null!;
                public Microsoft.AspNetCore.Http.HttpRequest Request { get; } = null!;
            }
        }

        namespace Microsoft.EntityFrameworkCore
        {
            public class DbContext : IDisposable
            {
                public Task<int> SaveChangesAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);
                public void Dispose() { }
            }
        }

        namespace Microsoft.Extensions.DependencyInjection
        {
            public interface IServiceScope : IDisposable { IServiceProvider ServiceProvider { get; } }
            public interface IServiceScopeFactory { IServiceScope CreateScope(); }

            public static class ServiceProviderServiceExtensions
            {
                public static T GetRequiredService<T>(this IServiceProvider provider) where T : notnull => (T)provider.GetService(typeof(T))!;
            }
        }

        namespace Xunit
        {
            [AttributeUsage(AttributeTargets.Method)]
            public class FactAttribute : Attribute { }
        }
        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(Build);

    /// <summary>The framework's assemblies plus the compiled stubs.</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    private static ImmutableArray<MetadataReference> Build()
    {
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal)
                || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();

        var compilation = CSharpCompilation.Create(
            "TaskSupervisor.Stubs",
            [CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.CSharp12))],
            framework,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
        {
            throw new InvalidOperationException("Stubs do not compile: " + string.Join(Environment.NewLine, result.Diagnostics));
        }

        return framework.Add(MetadataReference.CreateFromImage(image.ToArray()));
    }
}
