using System.Collections.Immutable;
using AzKv.Partitions;
using AzKv.Versioning;

namespace AzKv.Replication;

/// <summary>
/// Compares one partition of this region with the same partition of a peer region and pulls what the peer has
/// and this region lacks. Top-down over the <see cref="MerkleTree"/>: the root first, then only the children of
/// nodes that differ, down to the leaf buckets; then the peer's sibling sets of the differing buckets, each merged
/// here through the replication apply path (<see cref="PartitionOwner.ApplyAsync"/>: DVV merge, logged in this
/// region's WAL with the versions' own dots and origins, so watch, replication and replay see ordinary records).
/// </summary>
/// <remarks>
/// One direction: this region repairs itself from the peer. What the peer lacks, the peer repairs on its own
/// run against this region. Merging is idempotent, so a key that was merely in flight (replication lag) is
/// merged once here and its record, when it arrives, changes nothing.
/// </remarks>
public static class AntiEntropyVerifier
{
    /// <summary>Leaf buckets asked for per request.</summary>
    public const int LeavesPerRequest = 128;

    /// <summary>Writes handed to the owner's writer per call.</summary>
    private const int WritesPerApply = 2048;

    /// <summary>Compares <paramref name="owner"/>'s partition with <paramref name="peer"/>'s and repairs this side.</summary>
    public static async Task<PartitionVerification> VerifyAsync(PartitionOwner owner, IAntiEntropyPeer peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(peer);
        var partition = owner.Partition;
        var local = MerkleTree.Of(owner.State);
        var exchanged = 0;
        try
        {
            // Level by level: only the children of nodes that differ.
            IReadOnlyList<int> differing = [0];
            for (var level = 0; level <= MerkleTree.Depth && differing.Count > 0; level++)
            {
                var parents = level == 0 ? [] : differing;
                var remote = await peer.GetNodesAsync(partition, level, parents, cancellationToken).ConfigureAwait(false);
                var indices = level == 0 ? [0] : parents.SelectMany(p => Enumerable.Range(p * MerkleTree.Fanout, MerkleTree.Fanout)).ToList();
                if (remote.Length != indices.Count)
                {
                    throw new AntiEntropyPeerException($"Region {peer.Region} answered {remote.Length} hashes for {indices.Count} nodes at level {level}.");
                }

                exchanged += remote.Length;
                var next = new List<int>();
                for (var i = 0; i < indices.Count; i++)
                {
                    if (local.Node(level, indices[i]) != remote[i])
                    {
                        next.Add(indices[i]);
                    }
                }

                differing = next;
            }

            if (differing.Count == 0)
            {
                return new PartitionVerification(partition, exchanged, 0, 0, 0, 0);
            }

            var keys = 0;
            var divergent = 0;
            var repairs = new List<(string Key, ImmutableArray<CausalWrite> Writes)>();
            for (var start = 0; start < differing.Count; start += LeavesPerRequest)
            {
                var batch = differing.Skip(start).Take(LeavesPerRequest).ToList();
                var entries = await peer.GetLeavesAsync(partition, batch, cancellationToken).ConfigureAwait(false);
                keys += entries.Count;

                // Compared with the latest state: local writes may have moved on since the tree was built.
                var state = owner.State;
                foreach (var (key, remoteSet) in entries)
                {
                    var mine = state.Get(key) ?? SiblingSet.Empty;
                    if (mine.Merge(remoteSet).Equals(mine))
                    {
                        continue; // the peer holds nothing this region lacks (it may lack something: its own run pulls it)
                    }

                    divergent++;
                    repairs.Add((key, remoteSet.ToWrites()));
                }
            }

            // Whole keys per call, so a failed call leaves no key half repaired in the count.
            var repaired = 0;
            var pending = 0;
            var writes = new List<KeyValuePair<string, CausalWrite>>();
            for (var i = 0; i < repairs.Count; i++)
            {
                writes.AddRange(repairs[i].Writes.Select(w => new KeyValuePair<string, CausalWrite>(repairs[i].Key, w)));
                pending++;
                if (writes.Count < WritesPerApply && i < repairs.Count - 1)
                {
                    continue;
                }

                var outcome = await owner.ApplyAsync(writes, cancellationToken).ConfigureAwait(false);
                if (outcome.Status != WriteStatus.Committed)
                {
                    return new PartitionVerification(partition, exchanged, differing.Count, keys, divergent, repaired, "applying the repair failed: " + outcome.Status);
                }

                repaired += pending;
                pending = 0;
                writes.Clear();
            }

            return new PartitionVerification(partition, exchanged, differing.Count, keys, divergent, repaired);
        }
        catch (AntiEntropyPeerException ex)
        {
            return new PartitionVerification(partition, exchanged, 0, 0, 0, 0, ex.Message);
        }
    }
}
