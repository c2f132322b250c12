namespace TaskSupervision.Packaging.Tests;

/// <summary>The projects under src/ of a checkout, found on disk so that a new package is covered without a test edit.</summary>
internal static class SourceProjects
{
    /// <summary>The root of the checkout these tests were built from: the folder that holds TaskSupervisor.sln and src/.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TaskSupervisor.sln")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Repository root (with TaskSupervisor.sln and src/) not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every src/&lt;Name&gt;/&lt;Name&gt;.csproj of the checkout at <paramref name="root"/>, by name.</summary>
    public static IReadOnlyList<string> All(string root) =>
        Directory.GetDirectories(Path.Combine(root, "src"))
            .Select(Path.GetFileName)
            .Where(name => File.Exists(ProjectFile(root, name!)))
            .Select(name => name!)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// The projects that ship as packages. A project under src/ is a package unless its csproj opts out in so many
    /// words (the analyzers, which ship inside the core package).
    /// </summary>
    public static IReadOnlyList<string> Packable(string root) =>
        All(root)
            .Where(name => !File.ReadAllText(ProjectFile(root, name)).Contains("<IsPackable>false</IsPackable>", StringComparison.Ordinal))
            .ToList();

    public static string ProjectFile(string root, string name) => Path.Combine(root, "src", name, name + ".csproj");
}
