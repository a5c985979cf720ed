using System.Text.Json.Serialization;

namespace AzKv.Server.Api;

internal sealed record PutResponse(string Key, [property: JsonPropertyName("etag")] string ETag, bool Created)
{
    /// <summary>The entry's label; absent for the null label.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }
}

internal sealed record ListItem(string Key, [property: JsonPropertyName("etag")] string ETag, string ContentType, int Size)
{
    /// <summary>The entry's label; absent for the null label.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Value { get; init; }

    /// <summary>The entry key (key U+0000 label): the list's merge order and cursor.</summary>
    [JsonIgnore]
    public string EntryKey => AzKv.Keys.Labels.EntryKey(Key, Label);
}

internal sealed record ListResponse(IReadOnlyList<ListItem> Items, string? Next);

internal sealed record SiblingVersion(string ContentType, string Value, string Region, long Hlc);

internal sealed record SiblingsResponse(string Key, [property: JsonPropertyName("etag")] string ETag, IReadOnlyList<SiblingVersion> Versions)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }
}

internal sealed record WatchChange(string Key, string Type)
{
    /// <summary>The entry's label; absent for the null label.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    /// <summary>A change to an entry key: the key and label split apart.</summary>
    public static WatchChange For(AzKv.Partitions.Change change) => change.Deleted
        ? new WatchChange(AzKv.Keys.Labels.KeyOf(change.Key), "delete") { Label = AzKv.Keys.Labels.LabelOf(change.Key), ETag = change.ETag }
        : new WatchChange(AzKv.Keys.Labels.KeyOf(change.Key), "put") { Label = AzKv.Keys.Labels.LabelOf(change.Key), ETag = change.ETag, ContentType = change.ContentType, Size = change.Size };

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyName("etag")]
    public string? ETag { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ContentType { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Size { get; init; }
}

internal sealed record WatchResponse(IReadOnlyList<WatchChange> Changes, string Cursor);

internal sealed record ClusterNode(string NodeId, string Endpoint, IReadOnlyList<string> Roles);

internal sealed record ClusterPartition(int Id, string? Owner, long Epoch, long Lsn, bool Serving);

/// <summary>How far this region is behind another (multi-region replication; empty in a single region).</summary>
internal sealed record ReplicationStatus(string Region, double? LagMilliseconds, long LastAppliedHlc, int Partitions, bool CaughtUp, bool Paused)
{
    /// <summary><c>eventhubs</c> or <c>blobtail</c>: the path this node's consumers of the region use.</summary>
    public string Transport { get; init; } = "blobtail";

    /// <summary>Per partition of this node: the last applied source LSN, hub sequence number and path.</summary>
    public IReadOnlyList<ReplicationPositionItem> Positions { get; init; } = [];

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LastError { get; init; }
}

/// <summary>Where one partition's consumer of a source region stands.</summary>
internal sealed record ReplicationPositionItem(int Partition, long Lsn, string Transport)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? HubSequence { get; init; }
}

internal sealed record ConflictVersionItem(string Region, ulong Counter, long Hlc, bool Tombstone)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ContentType { get; init; }

    /// <summary>Base64 of the value (losers only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Value { get; init; }
}

internal sealed record ConflictItem(string Key, DateTimeOffset Detected, string DetectedIn, ConflictVersionItem Winner, ConflictVersionItem Loser);

internal sealed record ConflictsResponse(IReadOnlyList<ConflictItem> Items);

internal sealed record ClusterResponse(
    string Region, string NodeId, int PartitionCount, IReadOnlyList<ClusterNode> Nodes, IReadOnlyList<ClusterPartition> Partitions, IReadOnlyList<ReplicationStatus> Replication);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PutResponse))]
[JsonSerializable(typeof(ListResponse))]
[JsonSerializable(typeof(SiblingsResponse))]
[JsonSerializable(typeof(WatchResponse))]
[JsonSerializable(typeof(WatchChange))]
[JsonSerializable(typeof(ClusterResponse))]
[JsonSerializable(typeof(ConflictsResponse))]
[JsonSerializable(typeof(ProblemDocument))]
[JsonSerializable(typeof(PartitionKeysResponse))]
[JsonSerializable(typeof(ChangesResponse))]
[JsonSerializable(typeof(MeResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>
/// The API's serializer context: camelCase, and only the escaping JSON itself needs (ETags carry
/// quotes; <c>\u0022</c> would be correct but unreadable). Responses are application/json, never HTML.
/// </summary>
internal static class ApiJson
{
    public static ApiJsonContext Context { get; } = new(new System.Text.Json.JsonSerializerOptions
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
