using AzKv.Partitions;
using AzKv.Versioning;

namespace AzKv.Replication;

/// <summary>
/// Carries one source region's committed writes to this region, partition by partition. The
/// first implementation tails the source region's WAL segments in its storage
/// (<see cref="BlobTailTransport"/>); an Event Hubs transport can implement the same contract.
/// </summary>
/// <remarks>
/// Contract: records come in the source partition's LSN order, each at most once per call
/// sequence that chains positions; only records whose origin is the source region are returned
/// (a region never re-ships what it received, so there are no loops); the returned position
/// always moves past every record read, returned or filtered. Applying is idempotent (DVV merge),
/// so a consumer may safely re-read from an older position after a crash.
/// </remarks>
public interface IReplicationTransport
{
    /// <summary>The region whose writes this transport carries.</summary>
    string SourceRegion { get; }

    /// <summary>
    /// Reads the next records of <paramref name="partition"/> after <paramref name="from"/> (null: from
    /// the beginning). Returns an empty batch with the same position when nothing new is there yet.
    /// <paramref name="scope"/> <see cref="ReplicationScope.AllOrigins"/> also returns the records the
    /// source received from other regions (a region bootstrapping from scratch needs them).
    /// </summary>
    Task<ReplicationBatch> ReadAsync(int partition, ReplicationPosition? from, int maxRecords, ReplicationScope scope, CancellationToken cancellationToken);
}

/// <summary>Which records of the source's log a read returns.</summary>
public enum ReplicationScope
{
    /// <summary>Only writes made in the source region (steady state: no re-shipping, no loops).</summary>
    SourceOrigin,

    /// <summary>
    /// Every record, whatever region made it: for a region that starts from scratch, whose own past
    /// writes exist only in the other regions' logs. Applying them is idempotent.
    /// </summary>
    AllOrigins,
}

/// <summary>Where a consumer is in a source partition's log.</summary>
/// <param name="Segment">The segment being read (blob name in the source's storage).</param>
/// <param name="Offset">The byte offset after the last record read in it.</param>
/// <param name="Lsn">The source LSN of the last record read.</param>
/// <param name="HubSequence">
/// The sequence number of the last event read in the source's event hub partition (Event Hubs
/// transport), or null. Carried across blob-tail reads so the consumer can return to the hub.
/// </param>
/// <remarks>
/// A position whose <paramref name="Segment"/> is not in the source's manifest (e.g.
/// <see cref="HubSegment"/>) makes the blob tail resume after <paramref name="Lsn"/>.
/// </remarks>
public sealed record ReplicationPosition(string Segment, long Offset, long Lsn, long? HubSequence = null)
{
    /// <summary>The segment name of positions reached through the event hub (no blob segment).</summary>
    public const string HubSegment = "eventhubs";
}

/// <summary>
/// Wakes an idle consumer when its source may have something new (the blob listing monitor, or a
/// transport that waits inside its reads).
/// </summary>
public interface IReplicationWakeSource
{
    /// <summary>A counter that grows when the partition's source changed.</summary>
    long VersionOf(int partition);

    /// <summary>Completes when the version moves past <paramref name="seen"/>, or after <paramref name="timeout"/>.</summary>
    Task<long> WaitAsync(int partition, long seen, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>One record to apply: the key and the DVV write, with the source LSN it had.</summary>
/// <param name="SourceLsn">LSN in the source partition.</param>
/// <param name="Key">The key.</param>
/// <param name="Write">The write (context, dot, version); its origin is the source region.</param>
/// <param name="Writer">Who made the write in its origin region (WAL tag 4), or null when the record does not say.</param>
public sealed record ReplicatedRecord(long SourceLsn, string Key, CausalWrite Write, Wal.WriterIdentity? Writer = null);

/// <summary>
/// What a read returned. When the position was deleted by the source's retention,
/// <see cref="CatchUp"/> holds the source's latest checkpoint state: merge every key of it
/// (DVV merge), then continue from <see cref="Position"/>.
/// </summary>
/// <param name="Records">Records of the source region's origin, in LSN order.</param>
/// <param name="Position">The position to continue from.</param>
/// <param name="CatchUp">The source checkpoint to merge first, or null.</param>
public sealed record ReplicationBatch(IReadOnlyList<ReplicatedRecord> Records, ReplicationPosition? Position, PartitionState? CatchUp)
{
    /// <summary>Highest HLC among the records (0 when none): drives the replication-lag metric.</summary>
    public long LastHlc => Records.Count == 0 ? 0 : Records.Max(r => r.Write.Version.Hlc);
}
