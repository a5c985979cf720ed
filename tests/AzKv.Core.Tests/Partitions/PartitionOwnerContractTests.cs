using System.Text;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Wal;

namespace AzKv.Core.Tests.Partitions;

/// <summary>Partition-engine behaviour that must hold on every store (in-memory and Azurite).</summary>
public abstract class PartitionOwnerContractTests : PartitionOwnerTestBase
{
    [Fact]
    public async Task OpenAsync_WhenPartitionIsNew_TakesEpochOneWithOneActiveSegment()
    {
        var owner = await OpenAsync();

        var manifest = await ReadManifestAsync();
        Assert.Equal(1, owner.Epoch);
        Assert.Equal(1, manifest.Epoch);
        Assert.Equal("node-a", manifest.Owner!.NodeId);
        var segment = Assert.Single(manifest.Segments);
        Assert.False(segment.Sealed);
        Assert.Equal(1, segment.StartLsn);
        Assert.Equal(StorageLayout.Segment(PartitionId, 1, 1), segment.Name);
        Assert.True(owner.IsServing);
    }

    [Fact]
    public async Task WriteAsync_WhenPut_ReadReturnsValueAndCreatedThenReplaced()
    {
        var owner = await OpenAsync();

        var first = await PutAsync(owner, "app/color", "blue");
        var second = await PutAsync(owner, "app/color", "green");

        Assert.Equal(WriteStatus.Committed, first.Status);
        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(2, second.Lsn);
        Assert.Equal("green", Read(owner, "app/color"));
        Assert.Null(Read(owner, "app/other"));
    }

    [Fact]
    public async Task WriteAsync_WhenIfMatchIsCurrent_CommitsAndWhenStale_PreconditionFails()
    {
        var owner = await OpenAsync();
        var first = await PutAsync(owner, "k", "1");

        var swapped = await PutAsync(owner, "k", "2", PreconditionKind.IfMatch, first.ETag);
        var stale = await PutAsync(owner, "k", "3", PreconditionKind.IfMatch, first.ETag);

        Assert.Equal(WriteStatus.Committed, swapped.Status);
        Assert.Equal(WriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal("2", Read(owner, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenIfNoneMatchAny_CreatesOnlyWhenAbsent()
    {
        var owner = await OpenAsync();

        var created = await PutAsync(owner, "k", "1", PreconditionKind.IfNoneMatchAny);
        var refused = await PutAsync(owner, "k", "2", PreconditionKind.IfNoneMatchAny);

        Assert.Equal(WriteStatus.Committed, created.Status);
        Assert.Equal(WriteStatus.PreconditionFailed, refused.Status);
        Assert.Equal("1", Read(owner, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenDelete_HidesKeyAndDeleteOfMissingIsNotFound()
    {
        var owner = await OpenAsync();
        await PutAsync(owner, "k", "1");

        var deleted = await DeleteAsync(owner, "k");
        var again = await DeleteAsync(owner, "k");
        var missing = await DeleteAsync(owner, "never");
        var recreated = await PutAsync(owner, "k", "2");

        Assert.Equal(WriteStatus.Committed, deleted.Status);
        Assert.Equal(WriteStatus.NotFound, again.Status);
        Assert.Equal(WriteStatus.NotFound, missing.Status);
        Assert.True(recreated.Created);
        Assert.Equal("2", Read(owner, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenManyConcurrentWrites_GroupsThemIntoFewerAppends()
    {
        var owner = await OpenAsync();

        var acknowledged = await WriteManyAsync(owner, 200);

        Assert.Equal(200, acknowledged.Count);
        Assert.Equal(200, owner.Lsn);
        Assert.True(owner.ActiveSegmentBlocks < 200, $"{owner.ActiveSegmentBlocks} appends for 200 writes: no batching happened.");
        AssertContains(owner, acknowledged);
    }

    [Fact]
    public async Task WriteAsync_WhenConcurrentIfMatchWritersRace_ExactlyOneWins()
    {
        var owner = await OpenAsync();
        var start = await PutAsync(owner, "counter", "0");

        var outcomes = await Task.WhenAll(Enumerable.Range(1, 16)
            .Select(i => PutAsync(owner, "counter", i.ToString(System.Globalization.CultureInfo.InvariantCulture), PreconditionKind.IfMatch, start.ETag)));

        Assert.Single(outcomes, o => o.Status == WriteStatus.Committed);
        Assert.Equal(15, outcomes.Count(o => o.Status == WriteStatus.PreconditionFailed));
    }

    [Fact]
    public async Task HandOverAsync_ThenOpenElsewhere_RecoversTheSameStateAtTheNextEpoch()
    {
        var first = await OpenAsync("node-a");
        var acknowledged = await WriteManyAsync(first, 50);
        await DeleteAsync(first, "k0007");
        acknowledged.Remove("k0007");
        var hash = first.State.ComputeStateHash();

        await first.HandOverAsync(CancellationToken.None);
        var second = await OpenAsync("node-b", TakeoverMode.WaitForExpiry);

        Assert.False(first.IsServing);
        Assert.Equal(2, second.Epoch);
        Assert.Equal(hash, second.State.ComputeStateHash());
        AssertContains(second, acknowledged);
        Assert.Null(Read(second, "k0007"));
        var after = await PutAsync(second, "k0001", "new");
        Assert.Equal(52, after.Lsn);
    }

    [Fact]
    public async Task OpenAsync_WhenActiveSegmentHasTornTail_TruncatesItAndKeepsAcknowledgedWrites()
    {
        var first = await OpenAsync("node-a");
        var acknowledged = await WriteManyAsync(first, 20);
        var segment = first.Manifest.Active!.Name;
        await first.HandOverAsync(CancellationToken.None);
        var validLength = (await Store.GetPropertiesAsync(segment, default, CancellationToken.None)).ContentLength;

        // Half a record: a length field promising more bytes than follow.
        await Store.AppendBlockAsync(segment, new byte[] { 200, 0, 0, 0, 1, 2, 3 }, default, CancellationToken.None);
        var second = await OpenAsync("node-b");

        AssertContains(second, acknowledged);
        Assert.Equal(20, second.Lsn);
        var sealedSegment = (await ReadManifestAsync()).Segments.Single(s => s.Name == segment);
        Assert.True(sealedSegment.Sealed);
        Assert.Equal(validLength, sealedSegment.Length);
        Assert.Equal(20, sealedSegment.EndLsn);
        Assert.Equal(WriteStatus.Committed, (await PutAsync(second, "after", "x")).Status);
    }

    [Fact]
    public async Task OpenAsync_WhenABadRecordInTheActiveSegmentIsFollowedByRecords_StopsWithCorruptDataInsteadOfTruncating()
    {
        var first = await OpenAsync("node-a");
        Assert.Equal(WriteStatus.Committed, (await PutAsync(first, "a", "1")).Status);
        var firstRecordLength = (await Store.GetPropertiesAsync(first.Manifest.Active!.Name, default, CancellationToken.None)).ContentLength;
        Assert.Equal(WriteStatus.Committed, (await PutAsync(first, "b", "2")).Status);
        Assert.Equal(WriteStatus.Committed, (await PutAsync(first, "c", "3")).Status);
        var segment = first.Manifest.Active!.Name;
        await first.HandOverAsync(CancellationToken.None);
        var before = await ReadManifestAsync();

        // Flip one byte inside the second record (acknowledged), with a third acknowledged record after it.
        var bytes = (await Store.DownloadAsync(segment, BlobRange.All, default, CancellationToken.None)).Content.ToArray();
        bytes[firstRecordLength + 12] ^= 0x40;
        await Store.DeleteAsync(segment, default, CancellationToken.None);
        await Store.CreateAppendBlobAsync(segment, new BlobWriteOptions(), CancellationToken.None);
        await Store.AppendBlockAsync(segment, bytes, default, CancellationToken.None);

        // Before the fix the takeover sealed the segment at the bad record: "b" and "c" vanished
        // and their LSNs were handed out again.
        var error = await Assert.ThrowsAsync<CorruptDataException>(() => PumpAsync(PartitionOwner.OpenAsync(
            PartitionId, Store, new OwnerIdentity("node-b", "r1", null), Options, TakeoverMode.Break, Time,
            new AzKv.Versioning.HybridLogicalClock(Time), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None)));
        Assert.Equal(segment, error.SourceName);
        Assert.Equal(firstRecordLength, error.Offset);
        Assert.Contains("ChecksumMismatch", error.Reason, StringComparison.Ordinal);
        var after = await ReadManifestAsync();
        Assert.Equal(before.Epoch, after.Epoch);
        Assert.False(after.Segments.Single(s => s.Name == segment).Sealed);
    }

    [Fact]
    public async Task OpenAsync_WhenClosedSegmentIsCorrupt_ThrowsInsteadOfSkipping()
    {
        var first = await OpenAsync("node-a");
        await WriteManyAsync(first, 10);
        var segment = first.Manifest.Active!.Name;
        await first.HandOverAsync(CancellationToken.None);
        var second = await OpenAsync("node-b");
        await second.HandOverAsync(CancellationToken.None);

        // Flip one byte in the middle of the (now sealed) first segment.
        var bytes = (await Store.DownloadAsync(segment, BlobRange.All, default, CancellationToken.None)).Content.ToArray();
        bytes[bytes.Length / 2] ^= 0x40;
        await Store.DeleteAsync(segment, default, CancellationToken.None);
        await Store.PutBlockBlobAsync(segment, bytes, default, CancellationToken.None);

        var error = await Assert.ThrowsAsync<CorruptDataException>(() => PumpAsync(PartitionOwner.OpenAsync(
            PartitionId, Store, new OwnerIdentity("node-c", "r1", null), Options, TakeoverMode.Break, Time,
            new AzKv.Versioning.HybridLogicalClock(Time), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None)));
        Assert.Contains(segment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_WhenSegmentsRollOver_ReopenGivesTheSameState()
    {
        var options = new PartitionOptions
        {
            LeaseDuration = Options.LeaseDuration,
            LeaseRenewInterval = Options.LeaseRenewInterval,
            LeaseSafetyMargin = Options.LeaseSafetyMargin,
            SegmentRolloverBlocks = 3,
        };
        var first = await OpenAsync("node-a", options: options);
        var acknowledged = new Dictionary<string, string>();
        for (var i = 0; i < 12; i++)
        {
            var key = $"k{i % 5}";
            var value = $"v{i}";
            Assert.Equal(WriteStatus.Committed, (await PutAsync(first, key, value)).Status);
            acknowledged[key] = value;
        }

        var hash = first.State.ComputeStateHash();
        var manifest = await ReadManifestAsync();
        Assert.True(manifest.Segments.Count >= 4, $"expected several segments, got {manifest.Segments.Count}");
        Assert.All(manifest.Segments.Take(manifest.Segments.Count - 1), s => Assert.True(s.Sealed));

        await first.HandOverAsync(CancellationToken.None);
        var second = await OpenAsync("node-b", options: options);

        Assert.Equal(hash, second.State.ComputeStateHash());
        AssertContains(second, acknowledged);
    }

    [Fact]
    public async Task CheckpointAsync_WhenEntriesAreLabelled_ReopenKeepsEveryLabelApart()
    {
        var first = await OpenAsync("node-a");
        Assert.Equal(WriteStatus.Committed, (await PutAsync(first, "cfg/k", "none")).Status);
        Assert.Equal(WriteStatus.Committed, (await PutAsync(first, AzKv.Keys.Labels.EntryKey("cfg/k", "dev"), "dev")).Status);
        Assert.Equal(2, await first.CheckpointAsync(CancellationToken.None));
        Assert.Equal(WriteStatus.Committed, (await PutAsync(first, AzKv.Keys.Labels.EntryKey("cfg/k", "prod"), "prod")).Status);
        var hash = first.State.ComputeStateHash();
        await first.HandOverAsync(CancellationToken.None);

        var second = await OpenAsync("node-b");

        Assert.Equal(hash, second.State.ComputeStateHash());
        Assert.Equal("none", Read(second, "cfg/k"));
        Assert.Equal("dev", Read(second, "cfg/k\0dev"));
        Assert.Equal("prod", Read(second, "cfg/k\0prod"));
        Assert.Equal(["cfg/k", "cfg/k\0dev", "cfg/k\0prod"], second.State.Keys.Keys);
    }

    [Fact]
    public async Task CheckpointAsync_ThenReopen_RecoversFromCheckpointPlusLaterRecords()
    {
        var options = new PartitionOptions
        {
            LeaseDuration = Options.LeaseDuration,
            LeaseRenewInterval = Options.LeaseRenewInterval,
            LeaseSafetyMargin = Options.LeaseSafetyMargin,
            SegmentRolloverBlocks = 2,
            SegmentRetention = TimeSpan.Zero,
            CheckpointEveryBytes = long.MaxValue,
        };
        var first = await OpenAsync("node-a", options: options);
        var acknowledged = new Dictionary<string, string>();
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(WriteStatus.Committed, (await PutAsync(first, $"k{i}", $"v{i}")).Status);
            acknowledged[$"k{i}"] = $"v{i}";
        }

        var checkpointLsn = await first.CheckpointAsync(CancellationToken.None);
        for (var i = 8; i < 11; i++)
        {
            Assert.Equal(WriteStatus.Committed, (await PutAsync(first, $"k{i}", $"v{i}")).Status);
            acknowledged[$"k{i}"] = $"v{i}";
        }

        var hash = first.State.ComputeStateHash();
        await first.HandOverAsync(CancellationToken.None);
        var manifest = await ReadManifestAsync();

        Assert.Equal(8, checkpointLsn);
        Assert.Equal(8, manifest.Checkpoint!.Lsn);
        // Segments sealed before the checkpoint and wholly covered by it are gone; the one active
        // at checkpoint time (and later ones) remain.
        Assert.All(manifest.Segments, s => Assert.True(s.EndLsn is null || s.EndLsn >= 8, $"{s.Name} should have been deleted by retention"));
        Assert.Equal(7, manifest.Segments[0].StartLsn);
        var walBlobs = (await Store.ListAsync(StorageLayout.SegmentPrefix(PartitionId), null, null, CancellationToken.None)).Items;
        Assert.Equal(manifest.Segments.Count, walBlobs.Count);

        var second = await OpenAsync("node-b", options: options);
        Assert.Equal(hash, second.State.ComputeStateHash());
        AssertContains(second, acknowledged);
        Assert.Equal(11, second.Lsn);
    }

    [Fact]
    public async Task OpenAsync_WhenPreviousOwnerCrashed_RecoversAcknowledgedWritesAndFencesIt()
    {
        var zombie = await OpenAsync("node-a");
        var acknowledged = await WriteManyAsync(zombie, 30);
        await zombie.AbandonAsync();

        var successor = await OpenAsync("node-b", TakeoverMode.Break);

        AssertContains(successor, acknowledged);
        Assert.Equal(2, successor.Epoch);

        // The old segment is sealed and its lease gone: nothing the zombie held can be appended to.
        var oldSegment = (await ReadManifestAsync()).Segments[0];
        Assert.True(oldSegment.Sealed);
        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            Store.AppendBlockAsync(oldSegment.Name, Encoding.UTF8.GetBytes("zombie"), default, CancellationToken.None));
        Assert.True(error.IsBlobSealed || error.IsLeaseLost);
    }
}
