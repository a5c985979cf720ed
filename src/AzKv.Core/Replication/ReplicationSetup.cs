using System.Collections.Immutable;
using AzKv.Storage;

namespace AzKv.Replication;

/// <summary>The regions this one replicates from, and how.</summary>
/// <param name="Transports">One transport per source region.</param>
/// <param name="Options">Consumer pacing.</param>
/// <param name="ConflictPolicies">The AzKv__ConflictPolicies setting (written to cluster.json when set).</param>
/// <param name="Sources">Each source region's storage, for the change monitor (same order as <paramref name="Transports"/>).</param>
/// <remarks><see cref="Publisher"/>: where this region's owners publish their records (its event hub), or null (blob tail only).</remarks>
internal sealed record ReplicationSetup(ImmutableArray<IReplicationTransport> Transports, ReplicationOptions Options, string? ConflictPolicies, ImmutableArray<IBlobStore> Sources)
{
    /// <summary>No other region: nothing to consume, nothing to publish.</summary>
    public static ReplicationSetup None { get; } = new([], new ReplicationOptions(), null, []);

    public IReplicationLogSink? Publisher { get; init; }
}

/// <summary>Replication from one source region, over the partitions this node owns.</summary>
internal sealed record SourceReplicationStatus(
    string Region, double? LagMilliseconds, long LastAppliedHlc, int Partitions, bool CaughtUp, bool Paused, string? LastError)
{
    /// <summary><c>eventhubs</c> when every partition of this node reads the source's event hub, else <c>blobtail</c>.</summary>
    public string Transport { get; init; } = "blobtail";

    /// <summary>Per partition: the last applied source LSN, hub sequence number and the path in use.</summary>
    public IReadOnlyList<SourcePartitionPosition> Positions { get; init; } = [];
}

/// <summary>Where one partition's consumer of a source stands.</summary>
internal sealed record SourcePartitionPosition(int Partition, long Lsn, long? HubSequence, string Transport);
