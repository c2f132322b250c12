using System.IO.Compression;
using System.Xml.Linq;

namespace TaskSupervision.Packaging.Tests;

/// <summary>A packed .nupkg and its .snupkg, read as the zip files they are.</summary>
public sealed class PackageFile(string nupkg, string snupkg)
{
    public string NupkgPath { get; } = nupkg;

    public string SnupkgPath { get; } = snupkg;

    /// <summary>The nuspec's &lt;metadata&gt; element.</summary>
    public XElement Metadata
    {
        get
        {
            using ZipArchive zip = ZipFile.OpenRead(NupkgPath);
            ZipArchiveEntry nuspec = zip.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
            using Stream stream = nuspec.Open();
            return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        }
    }

    /// <summary>The text of one metadata element, or null when the nuspec has none.</summary>
    public string? Element(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>The attributes of one metadata element (repository, license), or null when the nuspec has none.</summary>
    public XElement? ElementNode(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

    /// <summary>The package's dependencies, by target framework.</summary>
    public ILookup<string, (string Id, string Version)> Dependencies =>
        Metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToLookup(
                e => e.Parent!.Attribute("targetFramework")?.Value ?? "",
                e => (e.Attribute("id")!.Value, e.Attribute("version")!.Value));

    public IReadOnlyList<string> Entries => EntriesOf(NupkgPath);

    public IReadOnlyList<string> SymbolEntries => EntriesOf(SnupkgPath);

    public byte[] Read(string entry) => ReadFrom(NupkgPath, entry);

    public byte[] ReadSymbols(string entry) => ReadFrom(SnupkgPath, entry);

    private static List<string> EntriesOf(string path)
    {
        using ZipArchive zip = ZipFile.OpenRead(path);
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    private static byte[] ReadFrom(string path, string entry)
    {
        using ZipArchive zip = ZipFile.OpenRead(path);
        ZipArchiveEntry found = zip.GetEntry(entry) ?? throw new FileNotFoundException($"{Path.GetFileName(path)} has no {entry}.");
        using Stream stream = found.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
