using Microsoft.CodeAnalysis;

namespace TaskSupervision.Analyzers.RealCode;

/// <summary>
/// The metadata a project compiles against: the .NET and ASP.NET Core reference packs of the installed SDK, and the
/// packages it names (and, for EF Core providers, EF Core itself) that are in the local NuGet cache, newest version.
/// </summary>
internal sealed class References
{
    private static readonly string[] PreferredFrameworks =
        ["net10.0", "net9.0", "net8.0", "net7.0", "net6.0", "net5.0", "netcoreapp3.1", "netstandard2.1", "netstandard2.0"];

    private readonly List<MetadataReference> _framework;
    private readonly Dictionary<string, List<MetadataReference>> _packages = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _cache;

    public References()
    {
        var root = System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(typeof(object).Assembly.Location)))!;
        var packs = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(root)!, "packs");
        _framework = new[] { "Microsoft.NETCore.App.Ref", "Microsoft.AspNetCore.App.Ref" }
            .SelectMany(pack => Newest(System.IO.Path.Combine(packs, pack)) is { } dir ? BestLib(System.IO.Path.Combine(dir, "ref")) : [])
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
        _cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    /// <summary>Packages named by the project that the cache does not hold (their types stay unresolved).</summary>
    public HashSet<string> Missing { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<MetadataReference> For(ProjectInfo project)
    {
        var names = new HashSet<string>(project.Packages, StringComparer.OrdinalIgnoreCase);
        foreach (var name in project.Packages)
        {
            if (name.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.OrdinalIgnoreCase)
                || name.EndsWith(".EntityFrameworkCore", StringComparison.OrdinalIgnoreCase))
            {
                names.Add("Microsoft.EntityFrameworkCore");
                names.Add("Microsoft.EntityFrameworkCore.Abstractions");
                names.Add("Microsoft.EntityFrameworkCore.Relational");
            }
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var reference in _framework)
        {
            seen.Add(System.IO.Path.GetFileName(reference.Display!));
            yield return reference;
        }

        foreach (var name in names.OrderBy(n => n, StringComparer.Ordinal))
        {
            foreach (var reference in Package(name))
            {
                // The framework's copy wins over a package's older one of the same assembly.
                if (seen.Add(System.IO.Path.GetFileName(reference.Display!)))
                {
                    yield return reference;
                }
            }
        }
    }

    private List<MetadataReference> Package(string name)
    {
        if (_packages.TryGetValue(name, out var cached))
        {
            return cached;
        }

        var result = new List<MetadataReference>();
        var dir = Newest(System.IO.Path.Combine(_cache, name.ToLowerInvariant()));
        if (dir == null)
        {
            Missing.Add(name);
        }
        else
        {
            foreach (var path in BestLib(System.IO.Path.Combine(dir, "lib")))
            {
                result.Add(MetadataReference.CreateFromFile(path));
            }
        }

        _packages[name] = result;
        return result;
    }

    private static string? Newest(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return null;
        }

        return Directory.EnumerateDirectories(dir)
            .Select(d => (Dir: d, Version: Version.TryParse(System.IO.Path.GetFileName(d).Split('-')[0], out var v) ? v : null))
            .Where(x => x.Version != null)
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }

    private static IEnumerable<string> BestLib(string lib)
    {
        if (!Directory.Exists(lib))
        {
            return [];
        }

        foreach (var framework in PreferredFrameworks)
        {
            var dir = System.IO.Path.Combine(lib, framework);
            if (Directory.Exists(dir))
            {
                return Directory.EnumerateFiles(dir, "*.dll");
            }
        }

        return [];
    }
}
