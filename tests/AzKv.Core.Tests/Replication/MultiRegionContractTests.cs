using System.Text;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Replication;

/// <summary>
/// Regions of one partition each, on separate storage, replicating through <see cref="BlobTailTransport"/>
/// and <see cref="ReplicationConsumer"/>: they converge to identical state, lose no acknowledged write,
/// survive a paused transport, and rebuild a region from scratch. Run on the in-memory store and on Azurite.
/// </summary>
public abstract class MultiRegionContractTests : IAsyncLifetime
{
    private const int Partition = 3;
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(30);
    private readonly List<Region> _regions = [];

    /// <summary>A new, empty container for a region.</summary>
    protected abstract Task<IBlobStore> CreateStoreAsync(string region);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var region in _regions)
        {
            await region.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Replicate_WhenEveryRegionWritesTheSameKeysConcurrently_ConvergesToIdenticalState(int count)
    {
        var regions = await StartRegionsAsync(count, ReplicationTestOptions.Partition());
        ConnectAll(regions);

        await Task.WhenAll(regions.Select((region, r) => Task.Run(async () =>
        {
            var random = new Random(r);
            for (var i = 0; i < 60; i++)
            {
                var outcome = await region.Owner.WriteAsync(
                    new WriteCommand { Key = $"k{random.Next(10)}", Value = Encoding.UTF8.GetBytes($"{region.Name}-{i}") }, CancellationToken.None);
                Assert.Equal(WriteStatus.Committed, outcome.Status);
            }
        })));

        await ConvergedAsync(regions);
        AssertIdenticalDumps(regions);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Replicate_WhenPausedThenResumed_ConvergesWithEveryLoserInTheConflictLog(int count)
    {
        var regions = await StartRegionsAsync(count, ReplicationTestOptions.Partition());
        ConnectAll(regions);
        foreach (var consumer in regions.SelectMany(r => r.Consumers))
        {
            await consumer.PauseAsync();
        }

        // While replication is paused every region writes every key: all writes are concurrent.
        var acknowledged = new List<(string Key, Dot Dot, string Value)>();
        foreach (var region in regions)
        {
            for (var k = 0; k < 5; k++)
            {
                var value = $"{region.Name}-{k}";
                var outcome = await region.Owner.WriteAsync(new WriteCommand { Key = $"k{k}", Value = Encoding.UTF8.GetBytes(value) }, CancellationToken.None);
                Assert.Equal(WriteStatus.Committed, outcome.Status);
                acknowledged.Add(($"k{k}", DotOf(region.Name, outcome.ETag!), value));
            }
        }

        await Task.Delay(300);
        Assert.All(regions, r => Assert.Equal(5, r.Owner.State.Keys.Count(k => k.Value.Siblings.Length == 1)));
        foreach (var consumer in regions.SelectMany(r => r.Consumers))
        {
            consumer.Resume();
        }

        await ConvergedAsync(regions);
        AssertIdenticalDumps(regions);
        foreach (var region in regions)
        {
            var conflicts = await ConflictLog.ReadAsync(region.Store, "k", 1000, CancellationToken.None);
            foreach (var (key, dot, value) in acknowledged)
            {
                var set = region.Owner.State.Get(key)!;
                Assert.Equal(count, set.Siblings.Length);
                if (set.Winner!.Dot == dot)
                {
                    Assert.Equal(value, Encoding.UTF8.GetString(set.Winner.Value.Span));
                    Assert.DoesNotContain(conflicts, c => c.Key == key && c.Loser.Region == dot.Region && c.Loser.Counter == dot.Counter);
                }
                else
                {
                    var entry = Assert.Single(conflicts, c => c.Key == key && c.Loser.Region == dot.Region && c.Loser.Counter == dot.Counter);
                    Assert.Equal(value, Encoding.UTF8.GetString(entry.Loser.Value!));
                    // The winner at the moment of detection (a third region's write may beat it later).
                    Assert.NotEqual(dot, new Dot(entry.Winner.Region, entry.Winner.Counter));
                    Assert.True(entry.Winner.Hlc > entry.Loser.Hlc || (entry.Winner.Hlc == entry.Loser.Hlc && string.CompareOrdinal(entry.Winner.Region, entry.Loser.Region) > 0));
                }
            }
        }
    }

    [Fact]
    public async Task Replicate_WhenThePolicyIsSiblings_KeepsEveryConcurrentVersionAndLogsNoConflict()
    {
        var options = ReplicationTestOptions.Partition();
        options.ConflictPolicies = ConflictPolicies.Create([new("", ConflictPolicy.Siblings)]);
        var regions = await StartRegionsAsync(2, options);
        ConnectAll(regions);
        foreach (var consumer in regions.SelectMany(r => r.Consumers))
        {
            await consumer.PauseAsync();
        }

        foreach (var region in regions)
        {
            await region.Owner.WriteAsync(new WriteCommand { Key = "flag", Value = Encoding.UTF8.GetBytes(region.Name) }, CancellationToken.None);
        }

        foreach (var consumer in regions.SelectMany(r => r.Consumers))
        {
            consumer.Resume();
        }

        await ConvergedAsync(regions);
        var set = regions[0].Owner.State.Get("flag")!;
        Assert.Equal(["a", "b"], set.GetVisible(ConflictPolicy.Siblings).Select(v => Encoding.UTF8.GetString(v.Value.Span)).Order());
        Assert.Empty(await ConflictLog.ReadAsync(regions[0].Store, "", 100, CancellationToken.None));

        // A write with the merged context resolves the siblings, and the resolution replicates.
        var resolved = await regions[1].Owner.WriteAsync(
            new WriteCommand { Key = "flag", Value = "ab"u8.ToArray(), Precondition = PreconditionKind.IfMatch, IfMatch = set.Context }, CancellationToken.None);
        Assert.Equal(WriteStatus.Committed, resolved.Status);
        await ConvergedAsync(regions);
        Assert.All(regions, r => Assert.Equal("ab", Encoding.UTF8.GetString(Assert.Single(r.Owner.State.Get("flag")!.Siblings).Value.Span)));
    }

    [Fact]
    public async Task Replicate_WhenARegionStartsFromScratch_RebuildsFromTheOthersCheckpointsAndLogs()
    {
        var options = ReplicationTestOptions.Partition(rolloverBlocks: 2, retention: TimeSpan.Zero);
        var regions = await StartRegionsAsync(2, options);
        ConnectAll(regions);
        for (var round = 0; round < 3; round++)
        {
            foreach (var region in regions)
            {
                for (var i = 0; i < 4; i++)
                {
                    await region.Owner.WriteAsync(new WriteCommand { Key = $"k{i}", Value = Encoding.UTF8.GetBytes($"{region.Name}-{round}-{i}") }, CancellationToken.None);
                }
            }
        }

        await ConvergedAsync(regions);
        foreach (var region in regions)
        {
            Assert.NotNull(await region.Owner.CheckpointAsync(CancellationToken.None));
        }

        foreach (var region in regions)
        {
            await region.Owner.WriteAsync(new WriteCommand { Key = $"after-{region.Name}", Value = "x"u8.ToArray() }, CancellationToken.None);
        }

        // Retention removed the start of each log: a new region can only begin from a checkpoint.
        foreach (var region in regions)
        {
            var manifest = region.Owner.Manifest;
            Assert.True(manifest.Segments[0].StartLsn > 1, $"region {region.Name} still has its first segment");
        }

        var fresh = await StartRegionAsync("c", options);
        foreach (var source in regions)
        {
            fresh.Connect(source);
        }

        await ConvergedAsync([.. regions, fresh]);
        AssertIdenticalDumps([.. regions, fresh]);
        Assert.NotNull(fresh.Owner.State.Get("after-a"));
        Assert.NotNull(fresh.Owner.State.Get("after-b"));
    }

    [Fact]
    public async Task Replicate_WhenARegionLosesItsStorage_RecoversItsOwnWritesFromTheOthersBeforeWritingAgain()
    {
        var regions = await StartRegionsAsync(2, ReplicationTestOptions.Partition());
        ConnectAll(regions);
        var (a, b) = (regions[0], regions[1]);
        for (var i = 0; i < 4; i++)
        {
            await b.Owner.WriteAsync(new WriteCommand { Key = $"k{i}", Value = Encoding.UTF8.GetBytes($"b-old-{i}") }, CancellationToken.None);
        }

        await a.Owner.WriteAsync(new WriteCommand { Key = "k9", Value = "a"u8.ToArray() }, CancellationToken.None);
        await ConvergedAsync(regions);

        // Region b comes back on empty storage under the same region id: its own past writes exist
        // only in a's log (as records a received), so the first pass reads every origin.
        await b.ResetStorageAsync(await CreateStoreAsync("b"), ReplicationTestOptions.Partition());
        b.Connect(a);
        await a.DisconnectAsync();
        a.Connect(b); // same position as before, now in b's recreated storage
        await ConvergedAsync(regions);
        Assert.All(b.Consumers, c => Assert.False(c.Progress.Bootstrapping));
        Assert.Equal("b-old-0", Encoding.UTF8.GetString(b.Owner.State.Get("k0")!.Winner!.Value.Span));

        // Its next write gets a dot after the old ones, so the other region accepts it.
        var outcome = await b.Owner.WriteAsync(new WriteCommand { Key = "k0", Value = "b-new"u8.ToArray() }, CancellationToken.None);
        Assert.Equal(WriteStatus.Committed, outcome.Status);
        await ConvergedAsync(regions);
        Assert.Equal("b-new", Encoding.UTF8.GetString(Assert.Single(a.Owner.State.Get("k0")!.Siblings).Value.Span));
    }

    [Fact]
    public async Task Replicate_WhenTheSourceMonitorSeesItsSegmentGrow_WakesTheIdleConsumerWithoutWaitingForAPoll()
    {
        var (a, b, monitor) = await StartIdleOnTheMonitorAsync();
        await using var watching = monitor;

        await a.Owner.WriteAsync(new WriteCommand { Key = "second", Value = "2"u8.ToArray() }, CancellationToken.None);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (b.Owner.State.Get("second") is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer was not woken by the monitor");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Resume_WhenTheIdleConsumerSleepsOnTheMonitor_IsCaughtUpAgainWithoutWaitingForThePoll()
    {
        var (_, b, monitor) = await StartIdleOnTheMonitorAsync();
        await using var watching = monitor;

        // Nothing is written while paused: only the resume itself can wake the consumer (before the
        // fix it slept on the monitor until the minute's safety poll and stayed "not caught up").
        var consumer = Assert.Single(b.Consumers);
        await consumer.PauseAsync();
        Assert.False(consumer.Progress.CaughtUp);
        consumer.Resume();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!consumer.Progress.CaughtUp)
        {
            Assert.True(DateTime.UtcNow < deadline, "the resumed consumer did not read again until its next poll");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Two regions; b reads a with a monitor of a's segments and a poll of a minute, caught up and idle: from now on only
    /// the monitor (or a resume) wakes b's consumer. The caller disposes the monitor.
    /// </summary>
    private async Task<(Region A, Region B, SourceChangeMonitor Monitor)> StartIdleOnTheMonitorAsync()
    {
        var regions = await StartRegionsAsync(2, ReplicationTestOptions.Partition());
        var (a, b) = (regions[0], regions[1]);
        await a.Owner.WriteAsync(new WriteCommand { Key = "first", Value = "1"u8.ToArray() }, CancellationToken.None);
        var monitor = new SourceChangeMonitor("a", a.Store, TimeSpan.FromMilliseconds(50), TimeProvider.System, NullLogger.Instance);
        monitor.Start();
        var slow = TimeSpan.FromMinutes(1);
        b.Connect(a, new ReplicationOptions { PollInterval = slow, MaxPollInterval = slow, RetryInterval = TimeSpan.FromMilliseconds(200) }, monitor);
        await ConvergedAsync(regions);
        await Task.Delay(300);
        return (a, b, monitor);
    }

    [Fact]
    public async Task Replicate_WhenTheOwnerRestarts_ResumesFromTheSavedPosition()
    {
        var regions = await StartRegionsAsync(2, ReplicationTestOptions.Partition());
        ConnectAll(regions);
        for (var i = 0; i < 20; i++)
        {
            await regions[0].Owner.WriteAsync(new WriteCommand { Key = $"k{i}", Value = "v"u8.ToArray() }, CancellationToken.None);
        }

        await ConvergedAsync(regions);
        var b = regions[1];
        var lsnBefore = b.Owner.Lsn;
        await b.RestartAsync(ReplicationTestOptions.Partition());
        b.Connect(regions[0]);
        await Task.Delay(500);
        await ConvergedAsync(regions);

        // Nothing was applied twice: the saved position let the new owner skip what it had.
        Assert.Equal(lsnBefore, b.Owner.Lsn);
    }

    private static Dot DotOf(string region, string etag)
    {
        Assert.True(VersionVector.TryParseETag(etag, out var context));
        return new Dot(region, context.Get(region));
    }

    private async Task<List<Region>> StartRegionsAsync(int count, PartitionOptions options)
    {
        var regions = new List<Region>();
        for (var i = 0; i < count; i++)
        {
            regions.Add(await StartRegionAsync(((char)('a' + i)).ToString(), options));
        }

        return regions;
    }

    private async Task<Region> StartRegionAsync(string name, PartitionOptions options)
    {
        var region = new Region(name, await CreateStoreAsync(name));
        _regions.Add(region);
        await region.OpenAsync(options);
        return region;
    }

    private static void ConnectAll(List<Region> regions)
    {
        foreach (var target in regions)
        {
            foreach (var source in regions.Where(s => s != target))
            {
                target.Connect(source);
            }
        }
    }

    private static async Task ConvergedAsync(IReadOnlyList<Region> regions)
    {
        var deadline = DateTime.UtcNow + ConvergeTimeout;
        while (true)
        {
            var hashes = regions.Select(r => r.Owner.State.ComputeStateHash()).Distinct().Count();
            var caughtUp = regions.SelectMany(r => r.Consumers).All(c => c.Progress is { CaughtUp: true, LastError: null });
            if (hashes == 1 && caughtUp)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var errors = string.Join("; ", regions.SelectMany(r => r.Consumers).Select(c => $"{c.SourceRegion}->{c.Progress.Partition}: caughtUp={c.Progress.CaughtUp} error={c.Progress.LastError}"));
                var dumps = string.Join("\n", regions.Select(r => r.Name + ": " + string.Join(" ", r.Owner.State.Keys.Select(k => $"{k.Key}={k.Value}"))));
                Assert.Fail($"Regions did not converge within {ConvergeTimeout}: {hashes} distinct states; {errors}\n{dumps}");
            }

            await Task.Delay(50);
        }
    }

    private static void AssertIdenticalDumps(IReadOnlyList<Region> regions)
    {
        var first = regions[0].Owner.State.Keys.ToList();
        Assert.NotEmpty(first);
        foreach (var region in regions.Skip(1))
        {
            var dump = region.Owner.State.Keys.ToList();
            Assert.Equal(first.Select(e => e.Key), dump.Select(e => e.Key));
            for (var i = 0; i < first.Count; i++)
            {
                Assert.Equal(first[i].Value, dump[i].Value);
            }
        }
    }

    /// <summary>One region: its storage, the owner of the partition there, and its consumers of other regions.</summary>
    private sealed class Region(string name, IBlobStore store) : IAsyncDisposable
    {
        public string Name { get; } = name;

        public IBlobStore Store { get; private set; } = store;

        public PartitionOwner Owner { get; private set; } = null!;

        public List<ReplicationConsumer> Consumers { get; } = [];

        public async Task OpenAsync(PartitionOptions options)
        {
            var result = await PartitionOwner.OpenAsync(
                Partition, Store, new OwnerIdentity(Name + "-node", Name, null), options, TakeoverMode.Break, TimeProvider.System,
                new HybridLogicalClock(TimeProvider.System), NullLogger.Instance, CancellationToken.None);
            Assert.Equal(OpenStatus.Opened, result.Status);
            Owner = result.Owner!;
        }

        public void Connect(Region source, ReplicationOptions? options = null, SourceChangeMonitor? monitor = null)
        {
            var consumer = new ReplicationConsumer(
                Owner,
                new BlobTailTransport(source.Name, source.Store),
                Store,
                options ?? new ReplicationOptions { PollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(200), RetryInterval = TimeSpan.FromMilliseconds(200) },
                TimeProvider.System,
                NullLogger.Instance,
                monitor);
            Consumers.Add(consumer);
            consumer.Start();
        }

        public async Task RestartAsync(PartitionOptions options)
        {
            await StopConsumersAsync();
            await Owner.HandOverAsync(CancellationToken.None);
            await Owner.DisposeAsync();
            await OpenAsync(options);
        }

        public Task DisconnectAsync() => StopConsumersAsync();

        public async Task ResetStorageAsync(IBlobStore empty, PartitionOptions options)
        {
            await StopConsumersAsync();
            await Owner.DisposeAsync();
            Store = empty;
            await OpenAsync(options);
        }

        public async ValueTask DisposeAsync()
        {
            await StopConsumersAsync();
            if (Owner is not null)
            {
                await Owner.DisposeAsync();
            }
        }

        private async Task StopConsumersAsync()
        {
            foreach (var consumer in Consumers)
            {
                await consumer.DisposeAsync();
            }

            Consumers.Clear();
        }
    }
}
