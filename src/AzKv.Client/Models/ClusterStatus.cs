namespace AzKv.Client;

/// <summary>What one node knows of its region's cluster (<c>GET /v1/cluster</c>).</summary>
public sealed class ClusterStatus
{
    /// <summary>The region the answering node belongs to.</summary>
    public string Region { get; init; } = string.Empty;

    /// <summary>The answering node.</summary>
    public string NodeId { get; init; } = string.Empty;

    /// <summary>The number of partitions keys are hashed to.</summary>
    public int PartitionCount { get; init; }

    /// <summary>The nodes of the region.</summary>
    public IReadOnlyList<ClusterNode> Nodes { get; init; } = [];

    /// <summary>Every partition with its owner.</summary>
    public IReadOnlyList<ClusterPartition> Partitions { get; init; } = [];

    /// <summary>Replication from each peer region.</summary>
    public IReadOnlyList<ClusterReplication> Replication { get; init; } = [];
}

/// <summary>A node of the region.</summary>
public sealed class ClusterNode
{
    /// <summary>Its id.</summary>
    public string NodeId { get; init; } = string.Empty;

    /// <summary>Its advertised base URL.</summary>
    public string Endpoint { get; init; } = string.Empty;

    /// <summary>Its roles: <c>owner</c>, <c>frontend</c>.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];
}

/// <summary>A partition and who serves it.</summary>
public sealed class ClusterPartition
{
    /// <summary>The partition number.</summary>
    public int Id { get; init; }

    /// <summary>The owning node; null while unowned.</summary>
    public string? Owner { get; init; }

    /// <summary>The owner's fencing epoch.</summary>
    public long Epoch { get; init; }

    /// <summary>The last committed log sequence number.</summary>
    public long Lsn { get; init; }

    /// <summary>True when the owner has recovered and serves requests.</summary>
    public bool Serving { get; init; }
}

/// <summary>Replication from one peer region.</summary>
public sealed class ClusterReplication
{
    /// <summary>The peer region.</summary>
    public string Region { get; init; } = string.Empty;

    /// <summary>How far behind the peer's log this region is, in milliseconds; null when unknown.</summary>
    public long? LagMilliseconds { get; init; }
}
