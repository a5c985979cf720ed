using System.Collections.Immutable;
using AzKv.Partitions;
using AzKv.Replication;

namespace AzKv.Cluster;

/// <summary>One partition on this node: its current owner (if any) and its change feed.</summary>
internal sealed class PartitionSlot
{
    private PartitionOwner? _owner;
    private ImmutableArray<ReplicationConsumer> _consumers = [];

    public PartitionSlot(int partition, ChangeFeed feed)
    {
        Partition = partition;
        Feed = feed;
    }

    public int Partition { get; }

    public ChangeFeed Feed { get; }

    /// <summary>Consumers of other regions' logs for this partition, while this node owns it.</summary>
    public ImmutableArray<ReplicationConsumer> Consumers
    {
        get => _consumers;
        set => ImmutableInterlocked.InterlockedExchange(ref _consumers, value);
    }

    /// <summary>The publisher of this partition's records to the region's event hub, while this node owns it (Event Hubs only).</summary>
    public ReplicationPublisher? Publisher { get; set; }

    /// <summary>Why the partition cannot be served (corrupt data), or null.</summary>
    public string? CorruptReason { get; set; }

    /// <summary>A handover in progress, or null.</summary>
    public Task? HandOver { get; set; }

    /// <summary>Monotonic time of the first attempt to open it that found it busy.</summary>
    public long? BusySince { get; set; }

    public PartitionOwner? Owner
    {
        get => Volatile.Read(ref _owner);
        set => Volatile.Write(ref _owner, value);
    }
}
