namespace TaskSupervision.Packaging.Tests;

/// <summary>
/// Packs every project under src/ once per test run, the way a maintainer would publish them: from a fresh clone of
/// this repository whose remote is a (never contacted) GitHub address, in CI mode, with
/// <c>dotnet pack --artifacts-path</c>, under a version of its own.
/// </summary>
/// <remarks>
/// The clone is made with <c>git clone</c> and then given the files of the working tree the tests run from (tracked
/// and new ones, not ignored ones such as bin/ and obj/), so that a change is checked before it is committed; the
/// commit Source Link names is the clone's HEAD. Everything lives in one temporary folder, deleted at the end; the
/// packages never reach the machine's global packages folder (the consumer test restores into a folder of its own).
/// </remarks>
public sealed class PackedClone : IAsyncLifetime
{
    /// <summary>The remote the clone is given. Only a string in the build: nothing is fetched from it.</summary>
    public const string ExampleRemote = "https://github.com/example-owner/task-supervisor.git";

    /// <summary>Where Source Link points a debugger for the files of <see cref="ExampleRemote"/>.</summary>
    public const string ExampleRawContent = "https://raw.githubusercontent.com/example-owner/task-supervisor";

    /// <summary>The configuration packed, as it appears in artifact paths.</summary>
    public const string Configuration = "Release";

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("tasksupervisor-packaging-");

    /// <summary>The root of the clone.</summary>
    public string Clone => Path.Combine(_work.FullName, "repo");

    /// <summary>The artifacts path given to <c>dotnet pack</c>: inside the clone, as a CI job would use it.</summary>
    public string Artifacts => Path.Combine(Clone, "artifacts");

    /// <summary>The folder that holds the .nupkg and .snupkg files.</summary>
    public string Feed => Path.Combine(Artifacts, "package", Configuration.ToLowerInvariant());

    /// <summary>A folder for tests to write into; deleted with the rest.</summary>
    public string Scratch => Path.Combine(_work.FullName, "scratch");

    /// <summary>The version every package of this run carries, so no cached package can stand in for it.</summary>
    public string Version { get; } = "0.0.0-test." + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The clone's HEAD commit.</summary>
    public string Commit { get; private set; } = "";

    /// <summary>What <c>dotnet pack</c> printed, for failure messages.</summary>
    public string PackOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        try
        {
            await PackAsync();
        }
        catch
        {
            // xunit does not dispose a fixture whose initialization failed.
            _work.Delete(recursive: true);
            throw;
        }
    }

    private async Task PackAsync()
    {
        string root = SourceProjects.RepositoryRoot();
        await Command.RunAsync("bash", root, null, Path.Combine(root, ".ci", "ensure-packages"), "git");

        await Command.RunAsync("git", _work.FullName, null, "clone", "--quiet", root, Clone);
        await Command.RunAsync("git", Clone, null, "remote", "set-url", "origin", ExampleRemote);
        Commit = (await Command.RunAsync("git", Clone, null, "rev-parse", "HEAD")).Trim();
        await CopyWorkingTreeAsync(root);
        Directory.CreateDirectory(Scratch);

        // One pack of every project under src/ (the analyzers too, so that each one builds in Release): a solution
        // file of the clone's projects, written into the clone and ignored by nothing but this run.
        string solution = Path.Combine(Clone, "packaging-test.slnx");
        File.WriteAllText(solution, "<Solution>\n" + string.Concat(
            SourceProjects.All(Clone).Select(name => $"  <Project Path=\"src/{name}/{name}.csproj\" />\n")) + "</Solution>\n");

        var ci = new Dictionary<string, string> { ["CI"] = "true" };
        PackOutput = await Command.RunAsync(
            "dotnet", Clone, ci, "pack", solution, "-c", Configuration, "--artifacts-path", Artifacts, $"-p:Version={Version}", "-warnaserror");
    }

    public Task DisposeAsync()
    {
        _work.Delete(recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The package of one project of this run.</summary>
    public PackageFile Package(string id) => new(
        Path.Combine(Feed, $"{id}.{Version}.nupkg"),
        Path.Combine(Feed, $"{id}.{Version}.snupkg"));

    /// <summary>Brings the clone to the working tree's files: changed and new files copied, deleted ones deleted.</summary>
    private async Task CopyWorkingTreeAsync(string root)
    {
        string files = await Command.RunAsync("git", root, null, "ls-files", "-z", "--cached", "--others", "--exclude-standard");
        foreach (string relative in files.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            string source = Path.Combine(root, relative);
            string target = Path.Combine(Clone, relative);
            if (File.Exists(source))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target, overwrite: true);
            }
            else if (File.Exists(target))
            {
                File.Delete(target);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedCloneCollection : ICollectionFixture<PackedClone>
{
    public const string Name = "packed clone";
}
