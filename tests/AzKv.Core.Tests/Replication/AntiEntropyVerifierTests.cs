using System.Text;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Testing;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Replication;

/// <summary>
/// <see cref="AntiEntropyVerifier"/> between regions of one partition each on the in-memory blob store, replicating
/// through <see cref="BlobTailTransport"/>: it finds and repairs a divergence replication can no longer fix, and costs
/// one hash when the regions agree.
/// </summary>
public sealed class AntiEntropyVerifierTests : IAsyncLifetime
{
    private const int Partition = 2;
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(30);
    private readonly List<Region> _regions = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var region in _regions)
        {
            await region.DisposeAsync();
        }
    }

    [Fact]
    public async Task VerifyAsync_WhenAThirdRegionsWritesReachedOnlyThePeerAndItsStorageIsLost_MakesThisRegionEqualToThePeer()
    {
        var (a, b, c) = (await StartAsync("a"), await StartAsync("b"), await StartAsync("c"));
        a.Connect(b);
        b.Connect(a);
        a.Connect(c); // c's writes reach a only

        // Until a consumer has read its source's log to the end once it reads every origin (bootstrap);
        // after that b reads only a's own writes from a, so c's writes can reach b through nobody.
        await WaitAsync(() => a.Consumers.Concat(b.Consumers).All(x => !x.Progress.Bootstrapping));
        for (var i = 0; i < 20; i++)
        {
            await WriteAsync(a, $"shared/a{i}", "from-a");
            await WriteAsync(b, $"shared/b{i}", "from-b");
            await WriteAsync(c, $"lost/c{i}", $"c-{i}");
        }

        await WriteAsync(c, "shared/a3", "c-overwrote-a3"); // concurrent with a's write: two siblings at a
        var deleted = await c.Owner.WriteAsync(new WriteCommand { Key = "lost/c5", Kind = WriteKind.Delete }, CancellationToken.None);
        Assert.Equal(WriteStatus.Committed, deleted.Status);
        await WaitAsync(() => a.Owner.State.Get("lost/c5")?.Winner?.IsTombstone == true && b.Owner.State.Get("shared/a19") is not null && a.Owner.State.Get("shared/b19") is not null);
        await WaitAsync(() => a.Consumers.All(x => x.Progress.CaughtUp) && b.Consumers.All(x => x.Progress.CaughtUp));

        // c's storage is lost: nothing will ever carry its writes to b (a does not re-ship them).
        await c.DisposeAsync();
        await a.DisconnectAsync(c.Name);
        await Task.Delay(200);
        Assert.Null(b.Owner.State.Get("lost/c0"));
        Assert.NotEqual(a.Owner.State.ComputeStateHash(), b.Owner.State.ComputeStateHash());

        var result = await AntiEntropyVerifier.VerifyAsync(b.Owner, new InProcessAntiEntropyPeer("a", _ => a.Owner.State), CancellationToken.None);

        Assert.Null(result.Error);
        Assert.Equal(21, result.DivergentKeys); // 20 lost/ keys and shared/a3
        Assert.Equal(21, result.RepairedKeys);
        Assert.InRange(result.DifferingLeaves, 1, 21);
        AssertEqualStates(a.Owner.State, b.Owner.State);
        var repaired = Assert.Single(b.Owner.State.Get("lost/c1")!.Siblings);
        Assert.Equal(new Dot("c", 1), repaired.Dot); // the original origin and dot, not a new write of b
        Assert.Equal("c-1", Encoding.UTF8.GetString(repaired.Value.Span));
        Assert.True(b.Owner.State.Get("lost/c5")!.IsDeleted(ConflictPolicy.Lww));

        // The repair is in b's WAL: a restarted owner replays it.
        await b.RestartAsync();
        AssertEqualStates(a.Owner.State, b.Owner.State);
        var again = await AntiEntropyVerifier.VerifyAsync(b.Owner, new InProcessAntiEntropyPeer("a", _ => a.Owner.State), CancellationToken.None);
        Assert.Equal(1, again.NodesExchanged);
        Assert.Equal(0, again.RepairedKeys);
    }

    [Fact]
    public async Task VerifyAsync_WhenTheRegionsAreEqual_ExchangesOnlyTheRootHash()
    {
        var (a, b) = (await StartAsync("a"), await StartAsync("b"));
        a.Connect(b);
        b.Connect(a);
        for (var i = 0; i < 200; i++)
        {
            await WriteAsync(i % 2 == 0 ? a : b, $"k{i}", $"v{i}");
        }

        await WaitAsync(() => a.Owner.State.ComputeStateHash() == b.Owner.State.ComputeStateHash());
        var peer = new CountingPeer(new InProcessAntiEntropyPeer("a", _ => a.Owner.State));

        var result = await AntiEntropyVerifier.VerifyAsync(b.Owner, peer, CancellationToken.None);

        Assert.Equal(new PartitionVerification(Partition, NodesExchanged: 1, DifferingLeaves: 0, KeysExchanged: 0, DivergentKeys: 0, RepairedKeys: 0), result);
        Assert.Equal(1, peer.NodeRequests);
        Assert.Equal(0, peer.LeafRequests);
    }

    [Fact]
    public async Task VerifyAsync_WhenOneKeyIsMissing_DescendsOnlyIntoItsBranch()
    {
        var (a, b) = (await StartAsync("a"), await StartAsync("b"));
        for (var i = 0; i < 300; i++)
        {
            await WriteAsync(a, $"k{i}", "v");
        }

        b.Connect(a);
        await WaitAsync(() => b.Owner.State.Keys.Count == 300);
        await b.DisconnectAsync("a");
        await WriteAsync(a, "late", "only-in-a");
        var peer = new CountingPeer(new InProcessAntiEntropyPeer("a", _ => a.Owner.State));

        var result = await AntiEntropyVerifier.VerifyAsync(b.Owner, peer, CancellationToken.None);

        // The root, then 16 children at each of the three levels below it, then one leaf's keys.
        Assert.Equal(1 + (3 * MerkleTree.Fanout), result.NodesExchanged);
        Assert.Equal(1, result.DifferingLeaves);
        Assert.Equal(a.Owner.State.Keys.Keys.Count(k => MerkleTree.LeafOf(k) == MerkleTree.LeafOf("late")), result.KeysExchanged);
        Assert.Equal(1, result.RepairedKeys);
        Assert.Equal("only-in-a", Encoding.UTF8.GetString(b.Owner.State.Get("late")!.Winner!.Value.Span));
    }

    [Fact]
    public async Task VerifyAsync_WhenOnlyThisRegionHasAKey_RepairsNothingHere()
    {
        var (a, b) = (await StartAsync("a"), await StartAsync("b"));
        await WriteAsync(b, "only-b", "x");
        var lsn = b.Owner.Lsn;

        var result = await AntiEntropyVerifier.VerifyAsync(b.Owner, new InProcessAntiEntropyPeer("a", _ => a.Owner.State), CancellationToken.None);

        Assert.Equal(1, result.DifferingLeaves);
        Assert.Equal(0, result.KeysExchanged);
        Assert.Equal(0, result.RepairedKeys);
        Assert.Equal(lsn, b.Owner.Lsn);
        Assert.Null(a.Owner.State.Get("only-b")); // pull only: a repairs itself on its own run
    }

    [Fact]
    public async Task VerifyAsync_WhenThePeerDoesNotServeThePartition_ReportsTheError()
    {
        var b = await StartAsync("b");

        var result = await AntiEntropyVerifier.VerifyAsync(b.Owner, new InProcessAntiEntropyPeer("a", _ => null), CancellationToken.None);

        Assert.Contains("does not serve partition 2", result.Error);
        Assert.Equal(0, result.RepairedKeys);
    }

    private static void AssertEqualStates(PartitionState expected, PartitionState actual)
    {
        Assert.Equal(expected.Keys.Keys, actual.Keys.Keys);
        foreach (var (key, set) in expected.Keys)
        {
            Assert.Equal(set, actual.Keys[key]); // context (version vector), every sibling with its value
        }

        Assert.Equal(MerkleTree.Build(expected).Root, MerkleTree.Build(actual).Root);
    }

    private static async Task WriteAsync(Region region, string key, string value)
    {
        var outcome = await region.Owner.WriteAsync(new WriteCommand { Key = key, Value = Encoding.UTF8.GetBytes(value) }, CancellationToken.None);
        Assert.Equal(WriteStatus.Committed, outcome.Status);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + ConvergeTimeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }

    private async Task<Region> StartAsync(string name)
    {
        var store = new InMemoryBlobStore("azkv-" + name, TimeProvider.System);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        var region = new Region(name, store);
        _regions.Add(region);
        await region.OpenAsync();
        return region;
    }

    /// <summary>Counts the requests a verifier makes.</summary>
    private sealed class CountingPeer(IAntiEntropyPeer inner) : IAntiEntropyPeer
    {
        public int NodeRequests { get; private set; }

        public int LeafRequests { get; private set; }

        public string Region => inner.Region;

        public Task<System.Collections.Immutable.ImmutableArray<UInt128>> GetNodesAsync(int partition, int level, IReadOnlyList<int> parents, CancellationToken cancellationToken)
        {
            NodeRequests++;
            return inner.GetNodesAsync(partition, level, parents, cancellationToken);
        }

        public Task<IReadOnlyList<KeyValuePair<string, SiblingSet>>> GetLeavesAsync(int partition, IReadOnlyList<int> leaves, CancellationToken cancellationToken)
        {
            LeafRequests++;
            return inner.GetLeavesAsync(partition, leaves, cancellationToken);
        }
    }

    private sealed class Region(string name, IBlobStore store) : IAsyncDisposable
    {
        private readonly Dictionary<string, ReplicationConsumer> _consumers = new(StringComparer.Ordinal);
        private bool _disposed;

        public string Name { get; } = name;

        public IBlobStore Store { get; } = store;

        public PartitionOwner Owner { get; private set; } = null!;

        public IEnumerable<ReplicationConsumer> Consumers => _consumers.Values;

        public async Task OpenAsync()
        {
            var options = ReplicationTestOptions.Partition();
            var result = await PartitionOwner.OpenAsync(
                Partition, Store, new OwnerIdentity(Name + "-node", Name, null), options, TakeoverMode.Break, TimeProvider.System,
                new HybridLogicalClock(TimeProvider.System), NullLogger.Instance, CancellationToken.None);
            Assert.Equal(OpenStatus.Opened, result.Status);
            Owner = result.Owner!;
        }

        public void Connect(Region source)
        {
            var consumer = new ReplicationConsumer(
                Owner, new BlobTailTransport(source.Name, source.Store), Store,
                new ReplicationOptions { PollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(100), RetryInterval = TimeSpan.FromMilliseconds(100) },
                TimeProvider.System, NullLogger.Instance);
            _consumers[source.Name] = consumer;
            consumer.Start();
        }

        public async Task DisconnectAsync(string source)
        {
            if (_consumers.Remove(source, out var consumer))
            {
                await consumer.DisposeAsync();
            }
        }

        public async Task RestartAsync()
        {
            foreach (var source in _consumers.Keys.ToList())
            {
                await DisconnectAsync(source);
            }

            await Owner.HandOverAsync(CancellationToken.None);
            await Owner.DisposeAsync();
            await OpenAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var source in _consumers.Keys.ToList())
            {
                await DisconnectAsync(source);
            }

            if (Owner is not null)
            {
                await Owner.DisposeAsync();
            }
        }
    }
}
