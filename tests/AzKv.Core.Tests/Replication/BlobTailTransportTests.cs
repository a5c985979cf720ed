using System.Buffers;
using System.Text;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Testing;
using AzKv.Versioning;
using AzKv.Wal;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Replication;

public sealed class BlobTailTransportTests : IAsyncLifetime
{
    private const int Partition = 5;

    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryBlobStore _source;
    private readonly List<PartitionOwner> _owners = [];

    public BlobTailTransportTests()
    {
        _source = new InMemoryBlobStore("region-a", _clock);
    }

    public async Task InitializeAsync() => await _source.CreateContainerIfNotExistsAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        foreach (var owner in _owners)
        {
            await owner.DisposeAsync();
        }
    }

    private async Task<PartitionOwner> OpenAsync(PartitionOptions options)
    {
        var result = await PartitionOwner.OpenAsync(
            Partition, _source, new OwnerIdentity("a-node", "a", null), options, TakeoverMode.WaitForExpiry, _clock,
            new HybridLogicalClock(_clock), NullLogger.Instance, CancellationToken.None);
        Assert.Equal(OpenStatus.Opened, result.Status);
        _owners.Add(result.Owner!);
        return result.Owner!;
    }

    private static async Task WriteAsync(PartitionOwner owner, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            var outcome = await owner.WriteAsync(
                new WriteCommand { Key = $"k{i % 7}", Value = Encoding.UTF8.GetBytes($"v{i}") }, CancellationToken.None);
            Assert.Equal(WriteStatus.Committed, outcome.Status);
        }
    }

    private static async Task<(List<ReplicatedRecord> Records, ReplicationPosition? Position, PartitionState? CatchUp)> ReadAllAsync(
        IReplicationTransport transport, ReplicationPosition? from, int pageSize)
    {
        var records = new List<ReplicatedRecord>();
        PartitionState? catchUp = null;
        var position = from;
        for (var round = 0; round < 1000; round++)
        {
            var batch = await transport.ReadAsync(Partition, position, pageSize, ReplicationScope.SourceOrigin, CancellationToken.None);
            catchUp ??= batch.CatchUp;
            records.AddRange(batch.Records);
            if (batch.Records.Count == 0 && batch.CatchUp is null && batch.Position == position)
            {
                return (records, position, catchUp);
            }

            position = batch.Position;
        }

        throw new InvalidOperationException("the transport never stopped returning records");
    }

    private static string HashOf(PartitionState? start, IEnumerable<ReplicatedRecord> records)
    {
        var keys = new Dictionary<string, SiblingSet>(StringComparer.Ordinal);
        foreach (var (key, set) in start?.Keys ?? PartitionState.Empty.Keys)
        {
            keys[key] = set;
        }

        long lsn = start?.Lsn ?? 0;
        foreach (var record in records)
        {
            keys[record.Key] = (keys.TryGetValue(record.Key, out var set) ? set : SiblingSet.Empty).Apply(record.Write);
            lsn = record.SourceLsn;
        }

        return PartitionState.FromEntries(keys, lsn).ComputeStateHash();
    }

    [Fact]
    public async Task ReadAsync_WhenSourceHasWrites_ReturnsThemInLsnOrderThenNothingNew()
    {
        var owner = await OpenAsync(ReplicationTestOptions.Partition());
        await WriteAsync(owner, 0, 10);
        var transport = new BlobTailTransport("a", _source);

        var first = await transport.ReadAsync(Partition, null, 100, ReplicationScope.SourceOrigin, CancellationToken.None);
        var again = await transport.ReadAsync(Partition, first.Position, 100, ReplicationScope.SourceOrigin, CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), first.Records.Select(r => r.SourceLsn));
        Assert.All(first.Records, r => Assert.Equal("a", r.Write.Dot.Region));
        Assert.Equal(10, first.Position!.Lsn);
        Assert.Empty(again.Records);
        Assert.Equal(first.Position, again.Position);
        Assert.Equal(owner.State.ComputeStateHash(), HashOf(null, first.Records));
    }

    [Fact]
    public async Task ReadAsync_WhenPagedByThree_NeverSkipsOrRepeatsARecord()
    {
        var owner = await OpenAsync(ReplicationTestOptions.Partition());
        await WriteAsync(owner, 0, 17);

        var (records, position, _) = await ReadAllAsync(new BlobTailTransport("a", _source), null, 3);

        Assert.Equal(Enumerable.Range(1, 17).Select(i => (long)i), records.Select(r => r.SourceLsn));
        Assert.Equal(17, position!.Lsn);
    }

    [Fact]
    public async Task ReadAsync_AcrossRolloversAndATakeover_FollowsTheSegmentsInOrder()
    {
        var first = await OpenAsync(ReplicationTestOptions.Partition(rolloverBlocks: 2));
        await WriteAsync(first, 0, 7);
        var transport = new BlobTailTransport("a", _source);
        var (early, position, _) = await ReadAllAsync(transport, null, 4);
        await first.HandOverAsync(CancellationToken.None);
        var second = await OpenAsync(ReplicationTestOptions.Partition(rolloverBlocks: 2));
        await WriteAsync(second, 7, 6);

        var (late, _, _) = await ReadAllAsync(transport, position, 4);

        var all = early.Concat(late).ToList();
        Assert.Equal(Enumerable.Range(1, 13).Select(i => (long)i), all.Select(r => r.SourceLsn));
        Assert.Equal(second.State.ComputeStateHash(), HashOf(null, all));
        Assert.True((await ReadManifestSegmentsAsync()) > 4);
    }

    [Fact]
    public async Task ReadAsync_WhenRetentionDeletedThePosition_CatchesUpFromTheCheckpointThenContinues()
    {
        var owner = await OpenAsync(ReplicationTestOptions.Partition(rolloverBlocks: 2, retention: TimeSpan.Zero));
        await WriteAsync(owner, 0, 9);
        await owner.CheckpointAsync(CancellationToken.None);
        await WriteAsync(owner, 9, 4);

        var (records, position, catchUp) = await ReadAllAsync(new BlobTailTransport("a", _source), null, 5);

        Assert.NotNull(catchUp);
        Assert.Equal(9, catchUp!.Lsn);
        Assert.Equal(Enumerable.Range(10, 4).Select(i => (long)i), records.Select(r => r.SourceLsn));
        Assert.Equal(13, position!.Lsn);
        Assert.Equal(owner.State.ComputeStateHash(), HashOf(catchUp, records));
    }

    [Fact]
    public async Task ReadAsync_WhenTheLogHoldsOtherRegionsRecords_ReturnsOnlyTheSourcesButAdvancesPastAll()
    {
        // A region's log also holds writes it received from other regions: they must not be re-shipped.
        var segment = StorageLayout.Segment(Partition, 1, 1);
        var buffer = new ArrayBufferWriter<byte>();
        var set = SiblingSet.Empty;
        var origins = new[] { "a", "b", "a", "c", "a" };
        for (var i = 0; i < origins.Length; i++)
        {
            var result = set.Put(origins[i], set.Context, Encoding.UTF8.GetBytes($"v{i}"), "text/plain", 1000 + i);
            set = result.State;
            WalEncoder.Write(buffer, new WalRecord((ulong)(i + 1), "shared", result.Write));
        }

        await _source.CreateAppendBlobAsync(segment, default, CancellationToken.None);
        await _source.AppendBlockAsync(segment, buffer.WrittenMemory, default, CancellationToken.None);
        var manifest = new PartitionManifest
        {
            Partition = Partition,
            Epoch = 1,
            Segments = [new ManifestSegment { Name = segment, Epoch = 1, StartLsn = 1 }],
        };
        Assert.NotNull(await new ManifestStore(_source).TryCreateAsync(manifest, CancellationToken.None));

        var batch = await new BlobTailTransport("a", _source).ReadAsync(Partition, null, 100, ReplicationScope.SourceOrigin, CancellationToken.None);

        Assert.Equal([1L, 3L, 5L], batch.Records.Select(r => r.SourceLsn));
        Assert.All(batch.Records, r => Assert.Equal("a", r.Write.Dot.Region));
        Assert.Equal(5, batch.Position!.Lsn);
        Assert.Equal(buffer.WrittenCount, batch.Position.Offset);
    }

    [Fact]
    public async Task ReadAsync_WhenThePartitionHasNoLogYet_ReturnsNothing()
    {
        var batch = await new BlobTailTransport("a", _source).ReadAsync(Partition, null, 10, ReplicationScope.SourceOrigin, CancellationToken.None);
        Assert.Empty(batch.Records);
        Assert.Null(batch.Position);
        Assert.Null(batch.CatchUp);
    }

    private async Task<int> ReadManifestSegmentsAsync() =>
        (await new ManifestStore(_source).ReadAsync(Partition, CancellationToken.None))!.Manifest.Segments.Count;
}
