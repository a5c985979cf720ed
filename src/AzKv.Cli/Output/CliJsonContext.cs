using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Client;

namespace AzKv.Cli.Output;

/// <summary>One key of <c>azkv list --json</c>; the value is base64, as in the REST API.</summary>
internal sealed record ListLine(
    string Key,
    [property: JsonPropertyName("etag")] string ETag,
    string ContentType,
    long Size,
    byte[]? Value)
{
    /// <summary>The entry's label; absent for the null label.</summary>
    public string? Label { get; init; }
}

/// <summary>One change of <c>azkv watch --json</c>, with the cursor to resume from.</summary>
internal sealed record WatchLine(
    string Type,
    string Key,
    [property: JsonPropertyName("etag")] string? ETag,
    string? ContentType,
    long? Size,
    string Cursor)
{
    /// <summary>The entry's label; absent for the null label.</summary>
    public string? Label { get; init; }
}

/// <summary>One concurrent version printed by <c>azkv get</c> on a 300 answer.</summary>
internal sealed record SiblingLine(string Region, long Hlc, string ContentType, byte[] Value);

/// <summary>
/// Source-generated JSON for the CLI's output: camelCase, the REST API's field names, and only the
/// escaping JSON needs (ETags carry quotes; <c>\u0022</c> would be correct but unreadable).
/// </summary>
[JsonSerializable(typeof(ListLine))]
[JsonSerializable(typeof(WatchLine))]
[JsonSerializable(typeof(SiblingLine))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(AzKvSnapshot))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>One JSON object per line.</summary>
    public static CliJsonContext Lines { get; } = new(CreateOptions(indented: false));

    /// <summary>Indented, for documents a person reads (<c>azkv cluster --json</c>).</summary>
    public static CliJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
