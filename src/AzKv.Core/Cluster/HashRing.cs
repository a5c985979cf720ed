using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using AzKv.Keys;

namespace AzKv.Cluster;

/// <summary>
/// Maps partitions to owner nodes: consistent hashing with virtual nodes, with bounded loads
/// (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded Loads", 2018). Immutable:
/// a membership change builds a new ring, swapped atomically by its holder.
/// </summary>
/// <remarks>
/// Each node gets <see cref="VirtualNodes"/> points at XXH64("{nodeId}#{i}"); partition p sits at
/// XXH64("partition/{p}"). Partitions are placed in ring order of their own positions, each on the
/// first virtual node clockwise whose node has fewer than ⌈<see cref="LoadFactor"/> × P / N⌉
/// partitions. Every node computes the same assignment from the same member list.
/// </remarks>
internal sealed class HashRing
{
    /// <summary>Virtual nodes per node.</summary>
    public const int VirtualNodes = 128;

    /// <summary>No node holds more than this factor of the mean number of partitions (rounded up).</summary>
    public const double LoadFactor = 1.25;

    private HashRing(ImmutableArray<string> nodes, ImmutableArray<string?> owners)
    {
        Nodes = nodes;
        Owners = owners;
    }

    /// <summary>The nodes in the ring, ordinal order.</summary>
    public ImmutableArray<string> Nodes { get; }

    /// <summary>Owner of each partition (null when the ring has no node).</summary>
    public ImmutableArray<string?> Owners { get; }

    /// <summary>Partitions.</summary>
    public int PartitionCount => Owners.Length;

    /// <summary>Builds the ring of <paramref name="nodeIds"/> over <paramref name="partitionCount"/> partitions.</summary>
    public static HashRing Create(IEnumerable<string> nodeIds, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(nodeIds);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        var nodes = nodeIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToImmutableArray();
        var owners = new string?[partitionCount];
        if (nodes.Length == 0)
        {
            return new HashRing(nodes, [.. owners]);
        }

        // Virtual nodes sorted by position (ties broken by node id, then index: deterministic).
        var points = new (ulong Position, int Node)[nodes.Length * VirtualNodes];
        for (var n = 0; n < nodes.Length; n++)
        {
            for (var v = 0; v < VirtualNodes; v++)
            {
                points[(n * VirtualNodes) + v] = (Hash(string.Create(CultureInfo.InvariantCulture, $"{nodes[n]}#{v}")), n);
            }
        }

        Array.Sort(points, (a, b) => a.Position != b.Position ? a.Position.CompareTo(b.Position) : a.Node.CompareTo(b.Node));
        var positions = points.Select(p => p.Position).ToArray();

        var capacity = (int)Math.Ceiling(LoadFactor * partitionCount / nodes.Length);
        var load = new int[nodes.Length];
        var order = Enumerable.Range(0, partitionCount)
            .Select(p => (Partition: p, Position: Hash(string.Create(CultureInfo.InvariantCulture, $"partition/{p}"))))
            .OrderBy(x => x.Position)
            .ThenBy(x => x.Partition);
        foreach (var (partition, position) in order)
        {
            var index = Array.BinarySearch(positions, position);
            index = index >= 0 ? index : ~index;
            for (var step = 0; step < points.Length; step++)
            {
                var node = points[(index + step) % points.Length].Node;
                if (load[node] < capacity)
                {
                    load[node]++;
                    owners[partition] = nodes[node];
                    break;
                }
            }
        }

        return new HashRing(nodes, [.. owners]);
    }

    /// <summary>The partitions <paramref name="nodeId"/> owns in this ring.</summary>
    public IReadOnlyList<int> PartitionsOf(string nodeId)
    {
        var result = new List<int>();
        for (var p = 0; p < Owners.Length; p++)
        {
            if (string.Equals(Owners[p], nodeId, StringComparison.Ordinal))
            {
                result.Add(p);
            }
        }

        return result;
    }

    private static ulong Hash(string text) => KeyHash.XxHash64(Encoding.UTF8.GetBytes(text));
}
