using System.Text;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Versioning;

namespace AzKv.Core.Tests.Replication;

public class MerkleTreeTests
{
    [Fact]
    public void Build_WhenTheSameWritesAreAppliedInDifferentOrders_GivesTheSameRoot()
    {
        var writes = ConcurrentWrites(keys: 50);
        var forward = Apply(writes, lsn: 10);
        var reversed = Apply(Enumerable.Reverse(writes).ToList(), lsn: 999);
        var shuffled = Apply(writes.OrderBy(_ => Random.Shared.Next()).ToList(), lsn: 3);

        Assert.Equal(forward.ComputeStateHash(), reversed.ComputeStateHash());
        Assert.NotEqual(UInt128.Zero, MerkleTree.Build(forward).Root);
        Assert.Equal(MerkleTree.Build(forward).Root, MerkleTree.Build(reversed).Root);
        Assert.Equal(MerkleTree.Build(forward).Root, MerkleTree.Build(shuffled).Root);
    }

    [Fact]
    public void Build_WhenOneKeyHasAnExtraVersion_DiffersOnlyOnThePathToThatKeysLeaf()
    {
        var writes = ConcurrentWrites(keys: 300);
        var before = Apply(writes, lsn: 1);
        var set = before.Get("k17")!;
        var changed = before.With([new("k17", set.Put("b", set.Context, "x"u8.ToArray(), "text/plain", 5_000).State)], lsn: 2);

        var (left, right) = (MerkleTree.Build(before), MerkleTree.Build(changed));
        var leaf = MerkleTree.LeafOf("k17");
        for (var level = MerkleTree.Depth; level >= 0; level--)
        {
            var differing = Enumerable.Range(0, MerkleTree.NodesAt(level)).Where(i => left.Node(level, i) != right.Node(level, i)).ToList();
            Assert.Equal([leaf], differing);
            leaf /= MerkleTree.Fanout;
        }

        Assert.Contains("k17", left.KeysOf(MerkleTree.LeafOf("k17")));
    }

    [Fact]
    public void Build_WhenTheOnlyDifferenceIsATombstone_RootsDiffer()
    {
        var live = SiblingSet.Empty.Put("a", VersionVector.Empty, "v"u8.ToArray(), "text/plain", 100).State;
        var deleted = live.Delete("a", live.Context, 200).State;
        var withLive = PartitionState.FromEntries([new("k", live)], 1);
        var withTombstone = PartitionState.FromEntries([new("k", deleted)], 1);
        var tombstoneOnly = PartitionState.FromEntries([new("k", SiblingSet.Empty.Delete("a", VersionVector.Empty, 100).State)], 1);

        Assert.NotEqual(MerkleTree.Build(withLive).Root, MerkleTree.Build(withTombstone).Root);
        Assert.NotEqual(MerkleTree.Build(PartitionState.Empty).Root, MerkleTree.Build(tombstoneOnly).Root);
    }

    [Fact]
    public void Build_WhenOnlyLsnOrIdempotencyDiffer_GivesTheSameRoot()
    {
        var writes = ConcurrentWrites(keys: 10);
        var state = Apply(writes, lsn: 1);
        var later = state.With([], lsn: 50);

        Assert.Equal(MerkleTree.Build(state).Root, MerkleTree.Build(later).Root);
        Assert.Equal(UInt128.Zero, MerkleTree.Build(PartitionState.Empty).Root);
    }

    [Fact]
    public void LeafOf_WhenGivenAKey_IsTheFirst12BitsOfSha256()
    {
        // SHA-256("a") = ca978112…: pinned so every platform and version buckets keys alike.
        Assert.Equal(0xca9, MerkleTree.LeafOf("a"));
        Assert.Equal(MerkleTree.LeafCount, MerkleTree.NodesAt(MerkleTree.Depth));
    }

    [Fact]
    public void Children_WhenAskedForTheChildrenOfTwoParents_ReturnsFanoutHashesEachInOrder()
    {
        var tree = MerkleTree.Build(Apply(ConcurrentWrites(keys: 500), lsn: 1));

        var children = tree.Children(3, [3, 200]);

        Assert.Equal(2 * MerkleTree.Fanout, children.Length);
        Assert.Equal(tree.Node(3, 3 * MerkleTree.Fanout), children[0]);
        Assert.Equal(tree.Node(3, (200 * MerkleTree.Fanout) + 15), children[^1]);
        Assert.Equal(tree.Root, Assert.Single(tree.Children(0, [])));
        Assert.True(MerkleTree.TryParse(MerkleTree.Format(tree.Root), out var parsed));
        Assert.Equal(tree.Root, parsed);
    }

    /// <summary>Per key, a write from each of three regions with empty context: concurrent versions, so order of apply could matter if anything did.</summary>
    private static List<(string Key, CausalWrite Write)> ConcurrentWrites(int keys)
    {
        var result = new List<(string, CausalWrite)>();
        foreach (var region in new[] { "a", "b", "c" })
        {
            for (var k = 0; k < keys; k++)
            {
                var write = SiblingSet.Empty.Put(region, VersionVector.Empty, Encoding.UTF8.GetBytes(region + k), "text/plain", 1_000 + k).Write;
                result.Add(($"k{k}", write));
                if (k % 7 == 0)
                {
                    // A later delete in the same region, overwriting its own put.
                    var after = SiblingSet.Empty.Apply(write);
                    result.Add(($"k{k}", after.Delete(region, after.Context, 2_000 + k).Write));
                }
            }
        }

        return result;
    }

    private static PartitionState Apply(IReadOnlyList<(string Key, CausalWrite Write)> writes, long lsn)
    {
        var sets = new Dictionary<string, SiblingSet>(StringComparer.Ordinal);
        foreach (var (key, write) in writes)
        {
            sets[key] = (sets.GetValueOrDefault(key) ?? SiblingSet.Empty).Apply(write);
        }

        return PartitionState.FromEntries(sets, lsn);
    }
}
