using System.Text.Json;
using System.Text.Json.Serialization;

namespace AzKv.Extensions.Configuration.Cache;

/// <summary>The last-known-good file: the stored keys (not the mapped configuration), so the mapping rules apply to it as to a fresh load.</summary>
internal sealed class CacheDocument
{
    /// <summary>The format version this code writes and reads.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; set; }

    public DateTimeOffset SavedAt { get; set; }

    /// <summary>What was selected, so a file of another selection is never used.</summary>
    public string Selection { get; set; } = string.Empty;

    public List<CacheItem> Items { get; set; } = [];
}

/// <summary>One stored key; the value in base64.</summary>
internal sealed class CacheItem
{
    public string Key { get; set; } = string.Empty;

    public string ContentType { get; set; } = string.Empty;

    public byte[] Value { get; set; } = [];
}

/// <summary>Source-generated JSON for the cache file.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false)]
[JsonSerializable(typeof(CacheDocument))]
internal sealed partial class CacheJsonContext : JsonSerializerContext
{
}
