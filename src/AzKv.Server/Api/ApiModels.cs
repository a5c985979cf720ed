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

    /// <summary>How many concurrent versions the key keeps (policy <c>siblings</c>, two or more: GET answers 300); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Versions { get; init; }

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

    /// <summary>The last anti-entropy verification of this node's partitions against the region, or null before the first.</summary>
    public VerificationResponse? LastVerification { get; init; }
}

/// <summary>One anti-entropy verification against a peer region (<c>POST /v1/replication/{region}/verify</c>, and <c>/v1/cluster</c>).</summary>
internal sealed record VerificationResponse(
    string Region, DateTimeOffset Started, double DurationMilliseconds, string Outcome, int ComparedPartitions, int NodesExchanged, int DifferingLeaves,
    int KeysExchanged, int DivergentKeys, int RepairedKeys)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>Per owner node of the region asked (only on the public verify answer).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<NodeVerificationItem>? Nodes { get; init; }

    /// <summary>Per partition (only on the verify answer).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PartitionVerificationItem>? Partitions { get; init; }

    public static VerificationResponse From(AzKv.Replication.AntiEntropyResult result, bool withPartitions) => new(
        result.PeerRegion, result.Started, result.Duration.TotalMilliseconds, result.Outcome, result.ComparedPartitions, result.NodesExchanged,
        result.DifferingLeaves, result.KeysExchanged, result.DivergentKeys, result.RepairedKeys)
    {
        Error = result.Error,
        Partitions = withPartitions
            ? [.. result.Partitions.Select(p => new PartitionVerificationItem(p.Partition, p.NodesExchanged, p.DifferingLeaves, p.KeysExchanged, p.DivergentKeys, p.RepairedKeys) { Error = p.Error })]
            : null,
    };
}

/// <summary>What one owner node of the region reported for its partitions.</summary>
internal sealed record NodeVerificationItem(string NodeId, string Outcome)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }
}

internal sealed record PartitionVerificationItem(int Partition, int NodesExchanged, int DifferingLeaves, int KeysExchanged, int DivergentKeys, int RepairedKeys)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }
}

/// <summary><c>GET /v1/internal/antientropy/{p}/tree</c>: hashes (32 hex digits) of the children of the asked parents.</summary>
internal sealed record AntiEntropyTreeResponse(int Partition, int Fanout, int Depth, int Level, IReadOnlyList<string> Hashes);

/// <summary><c>GET /v1/internal/antientropy/{p}/leaves</c>: every key of the asked leaf buckets with its full sibling set.</summary>
internal sealed record AntiEntropyLeavesResponse(int Partition, IReadOnlyList<AntiEntropyEntry> Entries);

/// <summary>A key's sibling set: the context (canonical version-vector bytes, base64) and every version.</summary>
internal sealed record AntiEntropyEntry(string Key, string Context, IReadOnlyList<AntiEntropyVersion> Versions);

/// <summary>One stored version, value in base64 (empty for a tombstone).</summary>
internal sealed record AntiEntropyVersion(string Region, ulong Counter, long Hlc, bool Tombstone, string ContentType, string Value);

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

/// <summary>One audited request (GET /v1/audit).</summary>
internal sealed record AuditItem(DateTimeOffset Time, string? Principal, string? ClientId, string Operation, string? Key, string Outcome, string Node);

/// <summary>A page of the audit log, newest first; <see cref="Cursor"/> is null on the last page.</summary>
internal sealed record AuditResponse(IReadOnlyList<AuditItem> Items, string? Cursor);

internal sealed record ClusterResponse(
    string Region, string NodeId, int PartitionCount, IReadOnlyList<ClusterNode> Nodes, IReadOnlyList<ClusterPartition> Partitions, IReadOnlyList<ReplicationStatus> Replication);

/// <summary><c>GET /console/config.json</c>: how the console signs in (docs/console.md).</summary>
internal sealed record ConsoleConfigResponse(string Auth, ConsoleSignIn? SignIn);

/// <summary>Entra ID sign-in of the console: authorization code flow with PKCE against the tenant's endpoints.</summary>
internal sealed record ConsoleSignIn(string Authority, string AuthorizeEndpoint, string TokenEndpoint, string ClientId, string Scope, string RedirectPath);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ConsoleConfigResponse))]
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
[JsonSerializable(typeof(VerificationResponse))]
[JsonSerializable(typeof(AntiEntropyTreeResponse))]
[JsonSerializable(typeof(AntiEntropyLeavesResponse))]
[JsonSerializable(typeof(AuditResponse))]
[JsonSerializable(typeof(ListItem))]
[JsonSerializable(typeof(AzKv.Server.Snapshots.SnapshotInfo))]
[JsonSerializable(typeof(AzKv.Server.Snapshots.SnapshotListResponse))]
[JsonSerializable(typeof(AzKv.Server.Snapshots.CreateSnapshotRequest))]
[JsonSerializable(typeof(AzKv.Server.Snapshots.SnapshotFilter[]), TypeInfoPropertyName = "SnapshotFilterArray")]
[JsonSerializable(typeof(AzKv.Server.Snapshots.PartitionCutResponse))]
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
