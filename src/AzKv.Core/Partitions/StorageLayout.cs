using System.Globalization;

namespace AzKv.Partitions;

/// <summary>
/// Blob names of the storage layout (docs/storage-layout.md). The only place that builds them.
/// </summary>
public static class StorageLayout
{
    /// <summary>Cluster identity: region and partition count.</summary>
    public const string ClusterBlob = "cluster.json";

    /// <summary>The folder of one partition, e.g. <c>partitions/0007</c>.</summary>
    public static string PartitionFolder(int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"partitions/{partition:D4}");

    /// <summary>The manifest of a partition.</summary>
    public static string Manifest(int partition) => PartitionFolder(partition) + "/manifest.json";

    /// <summary>A WAL segment: <c>partitions/{p:D4}/wal/{epoch:D10}-{startLsn:D20}.log</c>.</summary>
    public static string Segment(int partition, long epoch, long startLsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{PartitionFolder(partition)}/wal/{epoch:D10}-{startLsn:D20}.log");

    /// <summary>A checkpoint: <c>partitions/{p:D4}/checkpoints/{lsn:D20}.ckpt</c>.</summary>
    public static string Checkpoint(int partition, long lsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{PartitionFolder(partition)}/checkpoints/{lsn:D20}.ckpt");

    /// <summary>The prefix of every checkpoint of a partition.</summary>
    public static string CheckpointPrefix(int partition) => PartitionFolder(partition) + "/checkpoints/";

    /// <summary>The prefix of every WAL segment of a partition.</summary>
    public static string SegmentPrefix(int partition) => PartitionFolder(partition) + "/wal/";

    /// <summary>Membership heartbeat of a node.</summary>
    /// <summary>Where snapshots live (docs/storage-layout.md, "Snapshots").</summary>
    public const string SnapshotPrefix = "snapshots/";

    /// <summary>The immutable blob of snapshot <paramref name="name"/>.</summary>
    public static string Snapshot(string name) => SnapshotPrefix + name + ".jsonl";

    public static string Member(string nodeId) => "members/" + nodeId + ".json";

    /// <summary>The prefix of every conflict log of the region.</summary>
    public const string ConflictPrefix = "conflicts/";

    /// <summary>
    /// A conflict log of one partition, written by the owner of one epoch:
    /// <c>conflicts/{p:D4}/{epoch:D10}-{sequence:D6}.log</c> (append blob of JSON lines).
    /// </summary>
    public static string ConflictLog(int partition, long epoch, int sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{ConflictPrefix}{partition:D4}/{epoch:D10}-{sequence:D6}.log");

    /// <summary>The prefix of the large conflict values kept apart from the conflict logs.</summary>
    public const string ConflictValuePrefix = "conflict-values/";

    /// <summary>
    /// A conflict loser's value too large to keep inline in the log:
    /// <c>conflict-values/{p:D4}/{id}.bin</c>, where <paramref name="id"/> names the (key, loser dot)
    /// (a hash, since keys may hold any character). Outside <see cref="ConflictPrefix"/> so readers
    /// of the logs never take it for a log.
    /// </summary>
    public static string ConflictValue(int partition, string id) =>
        string.Create(CultureInfo.InvariantCulture, $"{ConflictValuePrefix}{partition:D4}/{id}.bin");

    /// <summary>The prefix of every replication position of a source region.</summary>
    public static string ReplicationPrefix(string sourceRegion) => "replication/" + sourceRegion + "/";

    /// <summary>How far this region consumed a source region's log for one partition.</summary>
    public static string ReplicationPosition(string sourceRegion, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"replication/{sourceRegion}/{partition:D4}.json");
}
