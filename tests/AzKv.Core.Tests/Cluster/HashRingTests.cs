using AzKv.Cluster;

namespace AzKv.Core.Tests.Cluster;

public sealed class HashRingTests
{
    private const int Partitions = 256;

    private static string[] Nodes(int count, string prefix = "node-") =>
        Enumerable.Range(1, count).Select(i => $"{prefix}{i}").ToArray();

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    public void Create_WithThreeToTenNodes_MostLoadedNodeOwnsAtMost1Point3TimesTheMean(int nodes)
    {
        foreach (var prefix in new[] { "node-", "azkv-owner-", "10.0.0." })
        {
            var ring = HashRing.Create(Nodes(nodes, prefix), Partitions);

            var loads = ring.Nodes.Select(n => ring.PartitionsOf(n).Count).ToArray();
            var mean = (double)Partitions / nodes;

            Assert.Equal(Partitions, loads.Sum());
            Assert.True(loads.Max() <= 1.3 * mean, $"{prefix}×{nodes}: max {loads.Max()} > 1.3 × {mean:0.0}");
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(9)]
    public void Create_WhenANodeJoins_MovesAtMost1Point3TimesTheIdealShare(int before)
    {
        var old = HashRing.Create(Nodes(before), Partitions);
        var grown = HashRing.Create(Nodes(before + 1), Partitions);

        var moved = Enumerable.Range(0, Partitions).Count(p => old.Owners[p] != grown.Owners[p]);
        var ideal = (double)Partitions / (before + 1);

        Assert.True(moved <= 1.3 * ideal, $"{before}→{before + 1}: moved {moved}, ideal {ideal:0.0}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(8)]
    [InlineData(10)]
    public void Create_WhenANodeLeaves_MovesAtMost1Point3TimesTheIdealShare(int before)
    {
        var nodes = Nodes(before);
        var old = HashRing.Create(nodes, Partitions);
        var shrunk = HashRing.Create(nodes.Where(n => n != "node-2"), Partitions);

        var moved = Enumerable.Range(0, Partitions).Count(p => old.Owners[p] != shrunk.Owners[p]);
        var ideal = (double)Partitions / before;

        Assert.True(moved <= 1.3 * ideal, $"{before}→{before - 1}: moved {moved}, ideal {ideal:0.0}");
        Assert.DoesNotContain("node-2", shrunk.Owners);
    }

    [Fact]
    public void Create_WhenMembersAreListedInAnyOrder_GivesTheSameAssignment()
    {
        var a = HashRing.Create(["c", "a", "b"], 64);
        var b = HashRing.Create(["b", "c", "a", "a"], 64);
        Assert.Equal(a.Owners.ToArray(), b.Owners.ToArray());
    }

    [Fact]
    public void Create_WhenNoNodes_OwnsNothing()
    {
        var ring = HashRing.Create([], 8);
        Assert.All(ring.Owners, Assert.Null);
    }

    [Fact]
    public void Create_WhenOneNode_OwnsEverything()
    {
        var ring = HashRing.Create(["solo"], 32);
        Assert.All(ring.Owners, o => Assert.Equal("solo", o));
    }
}
