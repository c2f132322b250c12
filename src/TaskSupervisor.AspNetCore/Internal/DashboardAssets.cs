using System.Collections.Frozen;
using System.Security.Cryptography;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>One embedded file of the page, with its content type and a validator for conditional requests.</summary>
internal sealed record DashboardAsset(byte[] Content, string ContentType, string ETag);

/// <summary>
/// The page's files (HTML, script, style), embedded in this assembly and read once: the dashboard needs nothing from any
/// other server, so it works on a machine with no outside network.
/// </summary>
internal static class DashboardAssets
{
    private const string ResourcePrefix = "TaskSupervision.AspNetCore.Assets.";

    public const string IndexFile = "index.html";

    public static FrozenDictionary<string, DashboardAsset> Files { get; } = Load();

    private static FrozenDictionary<string, DashboardAsset> Load()
    {
        Dictionary<string, DashboardAsset> files = new(StringComparer.Ordinal);
        System.Reflection.Assembly assembly = typeof(DashboardAssets).Assembly;
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using MemoryStream copy = new();
            stream.CopyTo(copy);
            byte[] content = copy.ToArray();
            string name = resource[ResourcePrefix.Length..];
            string etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"";
            files[name] = new DashboardAsset(content, ContentTypeOf(name), etag);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
