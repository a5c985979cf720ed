using System.Text.Json.Serialization;
using AzKv.Server.Api;

namespace AzKv.Server.Snapshots;

/// <summary>One filter of a snapshot: the keys under <see cref="Prefix"/> with exactly the label <see cref="Label"/> (null: the null label).</summary>
internal sealed record SnapshotFilter(string Prefix)
{
    /// <summary>The label; absent (or <c>"\u0000"</c>) is the null label. No wildcards.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }
}

/// <summary>The body of <c>POST /v1/snapshots</c>.</summary>
internal sealed record CreateSnapshotRequest
{
    public string? Name { get; init; }

    public IReadOnlyList<SnapshotFilter>? Filters { get; init; }

    /// <summary>Seconds the snapshot is kept; 0 or absent is the default (30 days).</summary>
    public long? RetentionSeconds { get; init; }
}

/// <summary>Where one partition was read: the LSN of the state the snapshot's items of that partition come from.</summary>
internal sealed record SnapshotPartitionCut(int Partition, long Lsn);

/// <summary>
/// A snapshot's metadata (<c>GET /v1/snapshots/{name}</c>, and the first line of its blob; docs/storage-layout.md).
/// </summary>
internal sealed record SnapshotInfo(
    string Name,
    string Status,
    string Composition,
    IReadOnlyList<SnapshotFilter> Filters,
    DateTimeOffset Created,
    DateTimeOffset Expires,
    long RetentionSeconds,
    int ItemCount,
    long SizeBytes,
    string Consistency,
    IReadOnlyList<SnapshotPartitionCut> Partitions)
{
    /// <summary>Who created it (the token's subject); absent when auth is off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CreatedBy { get; init; }

    /// <summary>A watch cursor at the cut (one LSN per partition): <c>GET /v1/watch?cursor=</c> from it gives every change after the snapshot.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Cursor { get; init; }

    /// <summary>The blob's ETag (not stored in the blob; set when read).</summary>
    [JsonPropertyName("etag")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ETag { get; init; }
}

/// <summary><c>GET /v1/snapshots</c>: the snapshots the caller may read, by name; <see cref="Next"/> is null on the last page.</summary>
internal sealed record SnapshotListResponse(IReadOnlyList<SnapshotInfo> Items, string? Next);

/// <summary><c>GET /v1/internal/partitions/{p}/cut</c>: the items of one partition that a snapshot's filters select, read at one LSN.</summary>
internal sealed record PartitionCutResponse(int Partition, long Lsn, IReadOnlyList<ListItem> Items, bool Truncated);

/// <summary>A snapshot read from its blob: the metadata and the items in entry-key order.</summary>
internal sealed record SnapshotContent(SnapshotInfo Info, IReadOnlyList<ListItem> Items);
