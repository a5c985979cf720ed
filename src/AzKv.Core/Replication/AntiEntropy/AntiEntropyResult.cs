using System.Collections.Immutable;

namespace AzKv.Replication;

/// <summary>What comparing one partition with a peer found and did.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="NodesExchanged">Tree hashes received from the peer (1 when the roots are equal).</param>
/// <param name="DifferingLeaves">Leaf buckets whose hashes differ.</param>
/// <param name="KeysExchanged">Keys (with their sibling sets) received from the peer for those leaves.</param>
/// <param name="DivergentKeys">Keys where the peer holds versions (or causal history) this region lacks.</param>
/// <param name="RepairedKeys">Divergent keys merged here (equal to <paramref name="DivergentKeys"/> unless applying failed).</param>
/// <param name="Error">Why the partition could not be compared or repaired, or null.</param>
public sealed record PartitionVerification(int Partition, int NodesExchanged, int DifferingLeaves, int KeysExchanged, int DivergentKeys, int RepairedKeys, string? Error = null);

/// <summary>One verification of this node's partitions against one peer region.</summary>
/// <param name="PeerRegion">The peer region.</param>
/// <param name="Started">When it started.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Partitions">Per partition compared (this node's serving partitions).</param>
public sealed record AntiEntropyResult(string PeerRegion, DateTimeOffset Started, TimeSpan Duration, ImmutableArray<PartitionVerification> Partitions)
{
    /// <summary>Partitions compared without error.</summary>
    public int ComparedPartitions => Partitions.Count(p => p.Error is null);

    /// <summary>Hashes received over all partitions.</summary>
    public int NodesExchanged => Partitions.Sum(p => p.NodesExchanged);

    /// <summary>Differing leaf buckets over all partitions.</summary>
    public int DifferingLeaves => Partitions.Sum(p => p.DifferingLeaves);

    /// <summary>Keys received over all partitions.</summary>
    public int KeysExchanged => Partitions.Sum(p => p.KeysExchanged);

    /// <summary>Keys the peer was ahead on.</summary>
    public int DivergentKeys => Partitions.Sum(p => p.DivergentKeys);

    /// <summary>Keys merged here.</summary>
    public int RepairedKeys => Partitions.Sum(p => p.RepairedKeys);

    /// <summary>The first partition error, or null.</summary>
    public string? Error => Partitions.Select(p => p.Error).FirstOrDefault(e => e is not null);

    /// <summary>
    /// <c>failed</c> when a partition could not be compared or repaired; <c>equal</c> when every root matched;
    /// <c>repaired</c> when keys were merged here; <c>differs</c> when trees differ only by what this region holds
    /// and the peer lacks (the peer repairs that on its own run).
    /// </summary>
    public string Outcome => Error is not null ? "failed"
        : DifferingLeaves == 0 ? "equal"
        : RepairedKeys > 0 ? "repaired"
        : "differs";
}
