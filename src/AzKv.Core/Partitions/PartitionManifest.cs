using System.Text.Json.Serialization;

namespace AzKv.Partitions;

/// <summary>
/// <c>partitions/{p:D4}/manifest.json</c>: the partition's epoch, owner, WAL segments and latest
/// checkpoint. Changed only with an If-Match compare-and-swap; immutable in memory.
/// </summary>
public sealed record PartitionManifest
{
    /// <summary>Format version of this document.</summary>
    public int Version { get; init; } = 1;

    /// <summary>Partition number.</summary>
    public required int Partition { get; init; }

    /// <summary>Ownership epoch: +1 at every takeover. Segment names carry the epoch that created them.</summary>
    public required long Epoch { get; init; }

    /// <summary>The owner recorded by the last takeover (advisory, for routing: the lease is the fence).</summary>
    public ManifestOwner? Owner { get; init; }

    /// <summary>Segments in LSN order; all but the last are sealed.</summary>
    public required IReadOnlyList<ManifestSegment> Segments { get; init; }

    /// <summary>The newest checkpoint, or null when none was written yet.</summary>
    public ManifestCheckpoint? Checkpoint { get; init; }

    /// <summary>When the manifest was last written.</summary>
    public DateTimeOffset Updated { get; init; }

    /// <summary>The active (unsealed) segment, if any.</summary>
    [JsonIgnore]
    public ManifestSegment? Active => Segments.Count > 0 && !Segments[^1].Sealed ? Segments[^1] : null;

    /// <summary>The first LSN after everything the manifest's sealed segments hold.</summary>
    [JsonIgnore]
    public long NextLsnAfterSealed => Segments.Count == 0 ? 1 : Segments[^1].Sealed ? Segments[^1].EndLsn!.Value + 1 : Segments[^1].StartLsn;
}

/// <summary>The node that owns a partition.</summary>
/// <param name="NodeId">Node id.</param>
/// <param name="Endpoint">Base URL other nodes forward requests to.</param>
public sealed record ManifestOwner(string NodeId, string? Endpoint);

/// <summary>A WAL segment (append blob).</summary>
public sealed record ManifestSegment
{
    /// <summary>Blob name.</summary>
    public required string Name { get; init; }

    /// <summary>Epoch of the owner that created it.</summary>
    public required long Epoch { get; init; }

    /// <summary>LSN of its first record.</summary>
    public required long StartLsn { get; init; }

    /// <summary>LSN of its last valid record (StartLsn − 1 when empty); null while active.</summary>
    public long? EndLsn { get; init; }

    /// <summary>Bytes readers may trust (the valid prefix); null while active.</summary>
    public long? Length { get; init; }

    /// <summary>True once sealed and closed: no record beyond <see cref="Length"/> counts.</summary>
    public bool Sealed { get; init; }

    /// <summary>When it was sealed (drives retention).</summary>
    public DateTimeOffset? SealedAt { get; init; }
}

/// <summary>A checkpoint blob: the full state of the partition at <see cref="Lsn"/>.</summary>
/// <param name="Name">Blob name.</param>
/// <param name="Lsn">Every record up to and including this LSN is in it.</param>
/// <param name="Length">Bytes, for a sanity check when reading.</param>
public sealed record ManifestCheckpoint(string Name, long Lsn, long Length);

/// <summary>A manifest with the ETag it was read or written with.</summary>
public sealed record VersionedManifest(PartitionManifest Manifest, string ETag);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(PartitionManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
