using System.Collections.Frozen;
using System.Security.Cryptography;

namespace AzKv.Server.WebConsole;

/// <summary>One file of the console: its bytes, content type and strong ETag (a hash of the bytes).</summary>
internal sealed record ConsoleAsset(string Path, byte[] Content, string ContentType, string ETag);

/// <summary>
/// The web console's files (<c>WebConsole/Web/**</c>), embedded in this assembly at build time under the
/// logical name <c>console/&lt;path&gt;</c> and read once: nothing is read from disk or the network.
/// </summary>
internal static class ConsoleAssets
{
    private const string ResourcePrefix = "console/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".json"] = "application/json; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every file, by its path under <c>/console/</c> (<c>index.html</c>, <c>assets/app.js</c>).</summary>
    public static FrozenDictionary<string, ConsoleAsset> All { get; } = Load();

    /// <summary>The page every console route falls back to (client-side routing).</summary>
    public static ConsoleAsset Index => All["index.html"];

    private static FrozenDictionary<string, ConsoleAsset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var contentType = ContentTypes.GetValueOrDefault(System.IO.Path.GetExtension(path), "application/octet-stream");
            var hash = SHA256.HashData(content);
            var etag = "\"" + Convert.ToBase64String(hash, 0, 12).Replace('+', '-').Replace('/', '_') + "\"";
            assets[path] = new ConsoleAsset(path, content, contentType, etag);
        }

        if (!assets.ContainsKey("index.html"))
        {
            throw new InvalidOperationException("The console's index.html is not embedded in AzKv.Server (WebConsole/Web/index.html).");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
