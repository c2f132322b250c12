using System.Xml.Linq;

namespace TaskSupervision.Analyzers.RealCode;

/// <summary>What the compilation of one .csproj needs, read from the project file and the Directory.Build.props above it.</summary>
internal sealed class ProjectInfo
{
    private static readonly string[] BaseUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static readonly string[] WebUsings =
    [
        "System.Net.Http.Json", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http",
        "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    private static readonly string[] WorkerUsings =
        ["Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection", "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging"];

    private ProjectInfo(string path)
    {
        Path = path;
        Directory = System.IO.Path.GetDirectoryName(path)!;
    }

    public string Path { get; }

    public string Directory { get; }

    public bool IsTest { get; private set; }

    public List<string> Sources { get; } = [];

    public List<string> Packages { get; } = [];

    public List<string> ProjectReferences { get; } = [];

    public List<string> GlobalUsings { get; } = [];

    private static Dictionary<string, ProjectInfo> s_all = new(StringComparer.Ordinal);

    public static List<ProjectInfo> Discover(string checkout)
    {
        var files = System.IO.Directory.EnumerateFiles(checkout, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !IsBuildOutput(p))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();
        var projectDirs = new HashSet<string>(files.Select(f => System.IO.Path.GetDirectoryName(f)!), StringComparer.Ordinal);
        var projects = files.Select(f => Read(f, checkout, projectDirs)).ToList();
        s_all = projects.ToDictionary(p => p.Path, StringComparer.Ordinal);
        return projects;
    }

    /// <summary>Projects ordered so that each comes after the projects it references.</summary>
    public static IEnumerable<ProjectInfo> InBuildOrder(List<ProjectInfo> projects)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<ProjectInfo>();
        foreach (var project in projects)
        {
            Visit(project, done, order, []);
        }

        return order;
    }

    /// <summary>Every project <paramref name="project"/> references, directly or not.</summary>
    public static IEnumerable<string> Closure(ProjectInfo project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(project.ProjectReferences);
        while (stack.Count > 0)
        {
            var next = stack.Pop();
            if (!seen.Add(next))
            {
                continue;
            }

            if (s_all.TryGetValue(next, out var info))
            {
                foreach (var reference in info.ProjectReferences)
                {
                    stack.Push(reference);
                }
            }
        }

        return seen;
    }

    private static void Visit(ProjectInfo project, HashSet<string> done, List<ProjectInfo> order, HashSet<string> visiting)
    {
        if (done.Contains(project.Path) || !visiting.Add(project.Path))
        {
            return;
        }

        foreach (var reference in project.ProjectReferences)
        {
            if (s_all.TryGetValue(reference, out var dependency))
            {
                Visit(dependency, done, order, visiting);
            }
        }

        done.Add(project.Path);
        order.Add(project);
    }

    private static bool IsBuildOutput(string path) =>
        path.Contains($"{System.IO.Path.DirectorySeparatorChar}bin{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || path.Contains($"{System.IO.Path.DirectorySeparatorChar}obj{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    private static ProjectInfo Read(string path, string checkout, HashSet<string> projectDirs)
    {
        var info = new ProjectInfo(path);
        var documents = new List<XDocument>();
        for (var dir = info.Directory; dir != null && dir.StartsWith(checkout, StringComparison.Ordinal); dir = System.IO.Path.GetDirectoryName(dir))
        {
            var props = System.IO.Path.Combine(dir, "Directory.Build.props");
            if (File.Exists(props))
            {
                documents.Add(Load(props));
            }
        }

        var project = Load(path);
        documents.Add(project);
        var sdk = project.Root?.Attribute("Sdk")?.Value ?? string.Empty;
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        info.IsTest = name.Contains("Test", StringComparison.OrdinalIgnoreCase) || name.Contains("Benchmark", StringComparison.OrdinalIgnoreCase)
            || name.Contains("Fuzz", StringComparison.OrdinalIgnoreCase)
            || Elements(documents, "IsTestProject").Any(e => e.Value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));

        info.Packages.AddRange(Elements(documents, "PackageReference").Select(e => e.Attribute("Include")?.Value).OfType<string>());
        info.ProjectReferences.AddRange(Elements([project], "ProjectReference")
            .Select(e => e.Attribute("Include")?.Value)
            .OfType<string>()
            .Select(r => System.IO.Path.GetFullPath(System.IO.Path.Combine(info.Directory, r.Replace('\\', '/')))));

        var implicitUsings = Elements(documents, "ImplicitUsings").LastOrDefault()?.Value.Trim();
        if (implicitUsings is "enable" or "true")
        {
            info.GlobalUsings.AddRange(BaseUsings.Select(u => "global::" + u));
            if (sdk.Contains("Web", StringComparison.Ordinal))
            {
                info.GlobalUsings.AddRange(WebUsings.Select(u => "global::" + u));
            }
            else if (sdk.Contains("Worker", StringComparison.Ordinal))
            {
                info.GlobalUsings.AddRange(WorkerUsings.Select(u => "global::" + u));
            }
        }

        foreach (var use in Elements(documents, "Using"))
        {
            var include = use.Attribute("Include")?.Value;
            if (include == null)
            {
                continue;
            }

            var alias = use.Attribute("Alias")?.Value;
            var isStatic = string.Equals(use.Attribute("Static")?.Value, "true", StringComparison.OrdinalIgnoreCase);
            info.GlobalUsings.Add(alias != null ? $"{alias} = global::{include}" : isStatic ? $"static global::{include}" : $"global::{include}");
        }

        info.Sources.AddRange(System.IO.Directory.EnumerateFiles(info.Directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(f) && OwnedBy(f, info.Directory, projectDirs))
            .OrderBy(f => f, StringComparer.Ordinal));
        return info;
    }

    /// <summary>A source belongs to the nearest project directory above it.</summary>
    private static bool OwnedBy(string file, string projectDir, HashSet<string> projectDirs)
    {
        for (var dir = System.IO.Path.GetDirectoryName(file); dir != null; dir = System.IO.Path.GetDirectoryName(dir))
        {
            if (projectDirs.Contains(dir))
            {
                return string.Equals(dir, projectDir, StringComparison.Ordinal);
            }
        }

        return false;
    }

    private static XDocument Load(string path)
    {
        try
        {
            return XDocument.Load(path);
        }
        catch (System.Xml.XmlException)
        {
            return new XDocument(new XElement("Project"));
        }
    }

    private static IEnumerable<XElement> Elements(IEnumerable<XDocument> documents, string name) =>
        documents.SelectMany(d => d.Descendants().Where(e => e.Name.LocalName == name));
}
