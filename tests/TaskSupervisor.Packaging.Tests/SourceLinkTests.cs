using System.Reflection.Metadata;
using System.Text;
using System.Text.Json;

namespace TaskSupervision.Packaging.Tests;

/// <summary>
/// A clone with a remote, built with CI=true, ships PDBs whose sources a debugger can fetch: Source Link maps the
/// clone's root, which the CI build writes as /_/, to the remote's raw content at the commit built.
/// </summary>
[Collection(PackedCloneCollection.Name)]
public sealed class SourceLinkTests(PackedClone packed)
{
    /// <summary>The kind of the portable PDB's custom debug information that holds the Source Link JSON.</summary>
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>The root a deterministic (ContinuousIntegrationBuild) build writes for the repository's root.</summary>
    private const string DeterministicRoot = "/_/";

    public static TheoryData<string> Packages() => PackageMetadataTests.Packages();

    [Theory]
    [MemberData(nameof(Packages))]
    public void SymbolsPackage_Pdb_MapsTheSourceRootToTheRemotesRawContent_AtTheCommitBuilt(string project)
    {
        using MetadataReaderProvider pdb = ShippedPdb(project);
        MetadataReader reader = pdb.GetMetadataReader();

        using JsonDocument sourceLink = JsonDocument.Parse(SourceLinkJson(reader));
        JsonProperty[] documents = sourceLink.RootElement.GetProperty("documents").EnumerateObject().ToArray();

        documents.Should().ContainSingle();
        documents[0].Name.Should().Be(DeterministicRoot + "*");
        documents[0].Value.GetString().Should().Be($"{PackedClone.ExampleRawContent}/{packed.Commit}/*");
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void SymbolsPackage_Pdb_NamesEverySourceUnderTheDeterministicRoot_NotTheBuildMachinesPath(string project)
    {
        using MetadataReaderProvider pdb = ShippedPdb(project);
        MetadataReader reader = pdb.GetMetadataReader();

        List<string> names = reader.Documents.Select(h => reader.GetString(reader.GetDocument(h).Name)).ToList();

        names.Should().Contain($"{DeterministicRoot}src/{project}/{ASourceFileOf(project)}");
        names.Should().OnlyContain(name => name.StartsWith(DeterministicRoot, StringComparison.Ordinal), "CI=true makes the build independent of where it ran");
    }

    private MetadataReaderProvider ShippedPdb(string project)
    {
        byte[] bytes = packed.Package(project).ReadSymbols($"lib/net10.0/{project}.pdb");
        return MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(bytes));
    }

    private static string SourceLinkJson(MetadataReader reader)
    {
        foreach (CustomDebugInformationHandle handle in reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition))
        {
            CustomDebugInformation information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == SourceLinkKind)
            {
                return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
            }
        }

        throw new InvalidOperationException("The PDB has no Source Link information.");
    }

    /// <summary>One C# file of the project, as a path relative to its folder with forward slashes.</summary>
    private string ASourceFileOf(string project)
    {
        string folder = Path.Combine(packed.Clone, "src", project);
        string file = Directory.GetFiles(folder, "*.cs", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).First();
        return Path.GetRelativePath(folder, file).Replace('\\', '/');
    }
}
