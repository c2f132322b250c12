using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace TaskSupervision.Packaging.Tests;

/// <summary>
/// Every package under src/ (found on disk, so a new one is covered without a test edit) carries what a package page
/// and a consumer need, and nothing invented.
/// </summary>
[Collection(PackedCloneCollection.Name)]
public sealed partial class PackageMetadataTests(PackedClone packed)
{
    /// <summary>The tags every package shares (src/Directory.Build.props); a package may add its own.</summary>
    private static readonly string[] SharedTags = ["background", "tasks", "fire-and-forget", "supervisor"];

    public static TheoryData<string> Packages()
    {
        var data = new TheoryData<string>();
        foreach (string name in SourceProjects.Packable(SourceProjects.RepositoryRoot()))
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void Pack_ProducesOnePackageAndOneSymbolsPackage_ForEveryPackableProjectUnderSrc()
    {
        var expected = SourceProjects.Packable(packed.Clone)
            .SelectMany(name => new[] { $"{name}.{packed.Version}.nupkg", $"{name}.{packed.Version}.snupkg" });

        Directory.GetFiles(packed.Feed).Select(Path.GetFileName).Should().BeEquivalentTo(expected, packed.PackOutput);
        SourceProjects.Packable(packed.Clone).Should().Contain(["TaskSupervisor", "TaskSupervisor.Hosting", "TaskSupervisor.HealthChecks"]);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Package_HasItsId_ADescription_TheMitLicense_AndTags(string project)
    {
        PackageFile package = packed.Package(project);

        package.Element("id").Should().Be(project);
        package.Element("version").Should().Be(packed.Version);
        package.Element("description").Should().NotBeNullOrWhiteSpace().And.NotBe("Package Description");
        package.Element("authors").Should().Be("The TaskSupervisor authors");
        XElement license = package.ElementNode("license")!;
        license.Should().NotBeNull();
        license.Attribute("type")!.Value.Should().Be("expression");
        license.Value.Should().Be("MIT");
        package.Element("tags")!.Split(' ').Should().Contain(SharedTags);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Package_ShipsTheReadmeNextToItsProject_WithNoRelativeLink(string project)
    {
        PackageFile package = packed.Package(project);
        string own = File.ReadAllText(Path.Combine(packed.Clone, "src", project, "README.md"));

        package.Element("readme").Should().Be("README.md");
        Encoding.UTF8.GetString(package.Read("README.md")).Should().Be(own, "the package's README is the one next to its csproj, not the repository's");
        own.Should().StartWith("# " + project, "a package README is about that package");

        // A package page shows the README alone: a relative link or image there points nowhere.
        RelativeLinks(own).Should().BeEmpty();

        // And the project has no public home yet: a README names no address but the reader's own machine.
        AbsoluteUrl().Matches(own).Select(m => m.Value)
            .Where(url => !Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || !LoopbackHosts.Contains(uri.Host))
            .Should().BeEmpty("a package README names no address the project does not own (no registry, no invented home)");
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Package_NamesTheRepositoryItWasBuiltFrom_AndNoOtherAddress(string project)
    {
        PackageFile package = packed.Package(project);

        XElement repository = package.ElementNode("repository")!;
        repository.Should().NotBeNull("the clone has a remote, which Source Link reads at build time");
        repository.Attribute("type")!.Value.Should().Be("git");
        repository.Attribute("url")!.Value.Should().Be(PackedClone.ExampleRemote);
        repository.Attribute("commit")!.Value.Should().Be(packed.Commit);

        // No home page, icon or other address: the project has no public home yet.
        package.Element("projectUrl").Should().BeNull();
        package.Element("iconUrl").Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Package_HasASymbolsPackage_WithThePortablePdbOfItsAssembly(string project)
    {
        PackageFile package = packed.Package(project);

        package.Entries.Should().Contain($"lib/net10.0/{project}.dll").And.Contain($"lib/net10.0/{project}.xml");
        package.Entries.Should().NotContain(e => e.EndsWith(".pdb", StringComparison.Ordinal), "symbols go to the .snupkg");
        package.SymbolEntries.Should().Contain($"lib/net10.0/{project}.pdb");
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Package_ListsNoDependencyThatAnotherOfItsDependenciesAlreadyBrings(string project)
    {
        PackageFile package = packed.Package(project);
        Dictionary<string, Dictionary<string, string>> graph = RestoredGraph(project);

        foreach (IGrouping<string, (string Id, string Version)> group in package.Dependencies)
        {
            group.Should().NotContain(d => d.Id == "TaskSupervisor.Analyzers", "the analyzers ship inside the core package");
            foreach ((string id, string version) in group)
            {
                foreach ((string other, _) in group.Where(d => d.Id != id))
                {
                    string? brought = Closure(graph, other).GetValueOrDefault(id);
                    bool redundant = brought != null && MinimumVersion(brought) >= MinimumVersion(version);
                    redundant.Should().BeFalse($"{project} lists {id} {version}, which {other} already brings ({brought})");
                }
            }
        }
    }

    [Fact]
    public void CorePackage_CarriesTheAnalyzerThisBuildProduced_UnderAnalyzersDotnetCs()
    {
        PackageFile core = packed.Package("TaskSupervisor");
        string built = Path.Combine(packed.Artifacts, "bin", "TaskSupervisor.Analyzers", PackedClone.Configuration.ToLowerInvariant(), "TaskSupervisor.Analyzers.dll");

        core.Entries.Where(e => e.StartsWith("analyzers/", StringComparison.Ordinal)).Should().Equal("analyzers/dotnet/cs/TaskSupervisor.Analyzers.dll");
        core.Read("analyzers/dotnet/cs/TaskSupervisor.Analyzers.dll").Should().Equal(File.ReadAllBytes(built));
        core.Entries.Should().NotContain(e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Analyzers", StringComparison.Ordinal));
    }

    [Fact]
    public void SatellitePackages_DependOnTheCorePackage_OfTheSameVersion()
    {
        foreach (string project in SourceProjects.Packable(packed.Clone).Where(p => p != "TaskSupervisor"))
        {
            PackageFile package = packed.Package(project);
            package.Dependencies["net10.0"].Should().Contain(("TaskSupervisor", packed.Version), project);
            package.Entries.Should().NotContain(e => e.StartsWith("analyzers/", StringComparison.Ordinal), $"{project} gets the analyzers through the core package");
        }
    }

    /// <summary>Targets of Markdown links and images, and of HTML src/href attributes, that are not absolute https addresses.</summary>
    private static List<string> RelativeLinks(string markdown) =>
        MarkdownLink().Matches(markdown).Select(m => m.Groups["target"].Value)
            .Concat(HtmlLink().Matches(markdown).Select(m => m.Groups["target"].Value))
            .Where(target => !target.StartsWith("https://", StringComparison.Ordinal))
            .ToList();

    private static readonly HashSet<string> LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    [GeneratedRegex(@"https?://[^\s)""'<>`]+", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex(@"\]\(\s*<?(?<target>[^)\s>]+)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"(?:src|href)\s*=\s*[""'](?<target>[^""']+)[""']", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlLink();

    /// <summary>
    /// The restore graph of one packed project for net10.0 (from its project.assets.json): each package or project to
    /// the dependencies it declares, by id, with their minimum versions.
    /// </summary>
    private Dictionary<string, Dictionary<string, string>> RestoredGraph(string project)
    {
        string assets = Path.Combine(packed.Artifacts, "obj", project, "project.assets.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(assets));
        JsonElement target = document.RootElement.GetProperty("targets").EnumerateObject().Single(t => t.Name == "net10.0").Value;
        var graph = new Dictionary<string, Dictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonProperty library in target.EnumerateObject())
        {
            string id = library.Name[..library.Name.IndexOf('/', StringComparison.Ordinal)];
            var dependencies = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (library.Value.TryGetProperty("dependencies", out JsonElement declared))
            {
                foreach (JsonProperty dependency in declared.EnumerateObject())
                {
                    dependencies[dependency.Name] = dependency.Value.GetString()!;
                }
            }

            graph[id] = dependencies;
        }

        return graph;
    }

    /// <summary>Everything <paramref name="id"/> brings, directly or not, with the highest minimum version asked for.</summary>
    private static Dictionary<string, string> Closure(Dictionary<string, Dictionary<string, string>> graph, string id)
    {
        var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>([id]);
        while (pending.TryPop(out string? next))
        {
            foreach ((string dependency, string range) in graph.GetValueOrDefault(next) ?? [])
            {
                if (!found.TryGetValue(dependency, out string? known) || MinimumVersion(range) > MinimumVersion(known))
                {
                    found[dependency] = range;
                    pending.Push(dependency);
                }
            }
        }

        return found;
    }

    /// <summary>The lower bound of a NuGet version or range ("10.0.0", "[10.0.0, )"), without its prerelease label.</summary>
    private static Version MinimumVersion(string range)
    {
        string lower = range.TrimStart('[', '(').Split(',')[0].Trim();
        string release = lower.Split('-', '+')[0];
        return System.Version.TryParse(release, out Version? parsed) ? parsed : new Version(0, 0);
    }
}
