using AzKv.Partitions;

namespace AzKv.Core.Tests.Replication;

/// <summary>The partition options of the replication tests.</summary>
internal static class ReplicationTestOptions
{
    /// <summary>
    /// 15 s leases renewed every 5 s (2 s safety margin), no checkpoints (the tests replicate from the WAL),
    /// and the given rollover and retention (the defaults unless a test rolls or removes segments).
    /// </summary>
    public static PartitionOptions Partition(int rolloverBlocks = 45_000, TimeSpan? retention = null) => new()
    {
        LeaseDuration = TimeSpan.FromSeconds(15),
        LeaseRenewInterval = TimeSpan.FromSeconds(5),
        LeaseSafetyMargin = TimeSpan.FromSeconds(2),
        SegmentRolloverBlocks = rolloverBlocks,
        SegmentRetention = retention ?? TimeSpan.FromHours(24),
        CheckpointEveryBytes = long.MaxValue,
    };
}
