namespace AzKv.Client;

/// <summary>
/// One filter of a snapshot: the keys under <see cref="Prefix"/> with exactly the label <see cref="Label"/> (null: the
/// null label). When several filters select a key, the later one wins (docs/api.md, "Snapshots").
/// </summary>
/// <param name="Prefix">Key prefix; empty for every key.</param>
/// <param name="Label">One label, or null for the null label. No wildcards.</param>
public sealed record AzKvSnapshotFilter(string Prefix, string? Label = null);

/// <summary>Where one partition was read for a snapshot: the LSN of the state its items come from.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="Lsn">The partition's LSN at the cut.</param>
public sealed record AzKvSnapshotPartition(int Partition, long Lsn);

/// <summary>A snapshot's metadata (<c>GET /v1/snapshots/{name}</c>). Its items never change.</summary>
public sealed class AzKvSnapshot
{
    /// <summary>The snapshot's name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary><c>ready</c>.</summary>
    public string Status { get; init; } = string.Empty;

    /// <summary><c>key</c>: one item per key, the later filter winning.</summary>
    public string Composition { get; init; } = string.Empty;

    /// <summary>The filters it was made with.</summary>
    public IReadOnlyList<AzKvSnapshotFilter> Filters { get; init; } = [];

    /// <summary>When it was made.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>When it expires (then it is no longer served, and a sweep deletes it).</summary>
    public DateTimeOffset Expires { get; init; }

    /// <summary>Its retention in seconds.</summary>
    public long RetentionSeconds { get; init; }

    /// <summary>How many items it holds.</summary>
    public int ItemCount { get; init; }

    /// <summary>The size of its blob.</summary>
    public long SizeBytes { get; init; }

    /// <summary><c>partition</c>: each partition was read at one LSN (<see cref="Partitions"/>), not all at one instant.</summary>
    public string Consistency { get; init; } = string.Empty;

    /// <summary>The cut: one LSN per partition.</summary>
    public IReadOnlyList<AzKvSnapshotPartition> Partitions { get; init; } = [];

    /// <summary>Who made it (the token's subject), or null when auth is off.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>A watch cursor at the cut: <see cref="AzKvClient.WatchAsync(string?, string?, System.Threading.CancellationToken)"/> from it sees every later change.</summary>
    public string? Cursor { get; init; }

    /// <summary>The snapshot's ETag.</summary>
    public string? ETag { get; init; }
}
