using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Client;

namespace AzKv.Cli.Output;

/// <summary>One key of <c>azkv list --json</c>; the value is base64, as in the REST API.</summary>
internal sealed record ListLine(string Key, string ETag, string ContentType, long Size, byte[]? Value);

/// <summary>One change of <c>azkv watch --json</c>, with the cursor to resume from.</summary>
internal sealed record WatchLine(string Type, string Key, string? ETag, string? ContentType, long? Size, string Cursor);

/// <summary>One concurrent version printed by <c>azkv get</c> on a 300 answer.</summary>
internal sealed record SiblingLine(string Region, long Hlc, string ContentType, byte[] Value);

/// <summary>Source-generated JSON for the CLI's output: camelCase, one object per line unless indented.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ListLine))]
[JsonSerializable(typeof(WatchLine))]
[JsonSerializable(typeof(SiblingLine))]
[JsonSerializable(typeof(ClusterStatus))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>The same options, indented, for documents a person reads (<c>azkv cluster --json</c>).</summary>
    public static CliJsonContext Indented { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    });
}
