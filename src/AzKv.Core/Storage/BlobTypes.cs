namespace AzKv.Storage;

/// <summary>Service limits that both implementations enforce the same way.</summary>
public static class BlobLimits
{
    /// <summary>Largest Append Block body accepted by the service (x-ms-version 2022-11-02 and later: 100 MiB; we keep the long-standing 4 MiB so every version and Azurite accept it).</summary>
    public const int MaxAppendBlockBytes = 4 * 1024 * 1024;

    /// <summary>An append blob accepts at most this many committed blocks.</summary>
    public const int MaxAppendBlocks = 50_000;

    /// <summary>Shortest finite lease duration.</summary>
    public static readonly TimeSpan MinLeaseDuration = TimeSpan.FromSeconds(15);

    /// <summary>Longest finite lease duration.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromSeconds(60);

    /// <summary>Longest break period.</summary>
    public static readonly TimeSpan MaxBreakPeriod = TimeSpan.FromSeconds(60);
}

/// <summary>The kind of a blob.</summary>
public enum BlobKind
{
    /// <summary>A block blob (written whole).</summary>
    Block,

    /// <summary>An append blob (grows by Append Block).</summary>
    Append,
}

/// <summary>Lease state as the service reports it (x-ms-lease-state).</summary>
public enum LeaseState
{
    /// <summary>No lease; it can be acquired.</summary>
    Available,

    /// <summary>Leased.</summary>
    Leased,

    /// <summary>The lease expired; it can be acquired.</summary>
    Expired,

    /// <summary>The lease is being broken; it cannot be acquired or renewed until the break period ends.</summary>
    Breaking,

    /// <summary>The lease was broken; it can be acquired.</summary>
    Broken,
}

/// <summary>
/// Request conditions. ETags are passed exactly as returned by the store; <c>"*"</c> is
/// allowed for <see cref="IfNoneMatch"/> (create only) and <see cref="IfMatch"/> (exists).
/// </summary>
public readonly record struct BlobConditions
{
    /// <summary>Succeed only if the blob's ETag equals this value (or the blob exists, for <c>*</c>).</summary>
    public string? IfMatch { get; init; }

    /// <summary>Succeed only if the blob's ETag differs from this value (or the blob does not exist, for <c>*</c>).</summary>
    public string? IfNoneMatch { get; init; }

    /// <summary>The id of the lease the caller holds on the blob.</summary>
    public string? LeaseId { get; init; }

    /// <summary>No condition.</summary>
    public static BlobConditions None => default;

    /// <summary>Only when the blob does not exist yet.</summary>
    public static BlobConditions IfNotExists => new() { IfNoneMatch = "*" };

    /// <summary>Only when the blob's ETag is <paramref name="etag"/>.</summary>
    public static BlobConditions IfMatchETag(string etag) => new() { IfMatch = etag };

    /// <summary>Only while the caller holds lease <paramref name="leaseId"/>.</summary>
    public static BlobConditions WithLease(string leaseId) => new() { LeaseId = leaseId };
}

/// <summary>Conditions of an Append Block.</summary>
public readonly record struct AppendConditions
{
    /// <summary>The lease the caller holds on the append blob.</summary>
    public string? LeaseId { get; init; }

    /// <summary>Append only if the blob's current length equals this offset (the service's append-position condition).</summary>
    public long? AppendPosition { get; init; }

    /// <summary>Append only if the blob's ETag equals this value.</summary>
    public string? IfMatch { get; init; }
}

/// <summary>Options of a write that creates or replaces a whole blob.</summary>
public readonly record struct BlobWriteOptions
{
    /// <summary>The Content-Type stored with the blob; null stores <c>application/octet-stream</c>.</summary>
    public string? ContentType { get; init; }

    /// <summary>Metadata stored with the blob.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Conditions the write depends on.</summary>
    public BlobConditions Conditions { get; init; }
}

/// <summary>A byte range; <see cref="Length"/> null means "to the end".</summary>
public readonly record struct BlobRange(long Offset, long? Length)
{
    /// <summary>The whole blob.</summary>
    public static BlobRange All => default;

    /// <summary>True when this is the whole blob.</summary>
    public bool IsAll => Offset == 0 && Length is null;
}

/// <summary>The outcome of a write that changed a blob.</summary>
public readonly record struct BlobWriteResult(string ETag, DateTimeOffset LastModified);

/// <summary>The outcome of an Append Block.</summary>
/// <param name="ETag">The blob's new ETag.</param>
/// <param name="AppendOffset">The offset at which the block was written (x-ms-blob-append-offset).</param>
/// <param name="CommittedBlockCount">Blocks in the blob after this append (x-ms-blob-committed-block-count).</param>
public readonly record struct AppendResult(string ETag, long AppendOffset, int CommittedBlockCount);

/// <summary>The outcome of a lease acquire, renew or change.</summary>
public readonly record struct LeaseResult(string LeaseId, string ETag);

/// <summary>Properties of a blob.</summary>
public sealed record BlobProperties
{
    /// <summary>Blob name within the container.</summary>
    public required string Name { get; init; }

    /// <summary>Current ETag.</summary>
    public required string ETag { get; init; }

    /// <summary>Last modification time.</summary>
    public required DateTimeOffset LastModified { get; init; }

    /// <summary>Length of the whole blob in bytes.</summary>
    public required long ContentLength { get; init; }

    /// <summary>Stored Content-Type.</summary>
    public string? ContentType { get; init; }

    /// <summary>Block or append blob.</summary>
    public required BlobKind Kind { get; init; }

    /// <summary>Metadata (names compared case-insensitively).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;

    /// <summary>Lease state.</summary>
    public LeaseState LeaseState { get; init; }

    /// <summary>For append blobs: number of committed blocks.</summary>
    public int? CommittedBlockCount { get; init; }

    /// <summary>For append blobs: true once sealed.</summary>
    public bool IsSealed { get; init; }

    internal static readonly IReadOnlyDictionary<string, string> EmptyMetadata =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Content of a read, with the blob's properties at the time of the read.</summary>
/// <param name="Properties">Properties; <see cref="BlobProperties.ContentLength"/> is the whole blob's length even for a range read.</param>
/// <param name="Content">The bytes read (the requested range, cut at the end of the blob).</param>
/// <param name="Offset">Offset of <paramref name="Content"/> in the blob.</param>
public sealed record BlobDownload(BlobProperties Properties, ReadOnlyMemory<byte> Content, long Offset);

/// <summary>One listed blob.</summary>
public sealed record BlobItem(string Name, string ETag, long ContentLength, BlobKind Kind, DateTimeOffset LastModified, LeaseState LeaseState, bool IsSealed);

/// <summary>One page of a listing.</summary>
public sealed record BlobListPage(IReadOnlyList<BlobItem> Items, string? ContinuationToken);
