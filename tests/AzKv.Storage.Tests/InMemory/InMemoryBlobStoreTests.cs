using System.Text;
using AzKv.Testing;

namespace AzKv.Storage.Tests.InMemory;

/// <summary>
/// What the shared contract suite does not pin down: the in-memory store's own knobs, and the places
/// where it copies Azurite 3.35 exactly (each checked against a running Azurite).
/// </summary>
public sealed class InMemoryBlobStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Fifteen = TimeSpan.FromSeconds(15);

    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryBlobStore _store;

    public InMemoryBlobStoreTests()
    {
        _store = new InMemoryBlobStore("store", _clock);
    }

    public async Task InitializeAsync() => await _store.CreateContainerIfNotExistsAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    // ---------------------------------------------------------------- basics

    [Fact]
    public void Constructor_WithDefaults_UsesAzkvContainerAndSystemClock()
    {
        var store = new InMemoryBlobStore();

        Assert.Equal("azkv", store.ContainerName);
        Assert.Same(TimeProvider.System, store.TimeProvider);
        Assert.Equal(BlobLimits.MaxAppendBlocks, store.MaxAppendBlocks);
    }

    [Fact]
    public async Task PutBlockBlob_WhenWritten_ETagIsQuotedHexAndLastModifiedIsClockInWholeSeconds()
    {
        _clock.Advance(TimeSpan.FromMilliseconds(1500));

        var written = await PutAsync("a", "x");

        Assert.Matches("^\"0x[0-9A-F]{15}\"$", written.ETag);
        Assert.Equal(ManualTimeProvider.DefaultStartTime.AddSeconds(1), written.LastModified);
    }

    [Fact]
    public async Task PutBlockBlob_WhenCallerChangesItsBufferAfterwards_StoredContentIsUnchanged()
    {
        var buffer = Encoding.UTF8.GetBytes("abc");
        await _store.PutBlockBlobAsync("a", buffer, default, CancellationToken.None);

        buffer[0] = (byte)'z';

        Assert.Equal("abc", await ReadAsync("a"));
    }

    [Fact]
    public async Task GetProperties_WhenCallerChangesReturnedMetadata_StoredMetadataIsUnchanged()
    {
        var metadata = new Dictionary<string, string> { ["k"] = "v" };
        await _store.PutBlockBlobAsync("a", Bytes("x"), new BlobWriteOptions { Metadata = metadata }, CancellationToken.None);
        metadata["k"] = "changed";
        var properties = await _store.GetPropertiesAsync("a", default, CancellationToken.None);

        ((IDictionary<string, string>)properties.Metadata)["k"] = "changed too";

        Assert.Equal("v", (await _store.GetPropertiesAsync("a", default, CancellationToken.None)).Metadata["K"]);
    }

    [Theory]
    [InlineData("1abc")]
    [InlineData("has-dash")]
    [InlineData("")]
    public async Task SetMetadata_WhenNameIsNotAnIdentifier_ThrowsInvalidMetadata(string name)
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.SetMetadataAsync("a", new Dictionary<string, string> { [name] = "v" }, default, CancellationToken.None));

        Assert.Equal(400, error.Status);
        Assert.Equal(BlobErrorCodes.InvalidMetadata, error.ErrorCode);
    }

    [Fact]
    public async Task SetMetadata_WhenNamesDifferOnlyInCase_ThrowsInvalidMetadata()
    {
        await PutAsync("a", "x");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["k"] = "1", ["K"] = "2" };

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.SetMetadataAsync("a", metadata, default, CancellationToken.None));

        Assert.Equal(BlobErrorCodes.InvalidMetadata, error.ErrorCode);
    }

    [Fact]
    public async Task SetMetadata_WhenIfMatchAndIfNoneMatchBothGiven_ThrowsBadRequest()
    {
        var written = await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.SetMetadataAsync(
            "a", new Dictionary<string, string>(), new BlobConditions { IfMatch = written.ETag, IfNoneMatch = "\"0x1\"" }, CancellationToken.None));

        Assert.Equal(400, error.Status);
        Assert.Equal("MultipleConditionHeadersNotSupported", error.ErrorCode);
    }

    [Fact]
    public async Task SetMetadata_WhenIfNoneMatchStarAndExists_ThrowsConditionNotMet()
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.SetMetadataAsync("a", new Dictionary<string, string>(), BlobConditions.IfNotExists, CancellationToken.None));

        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.ConditionNotMet, error.ErrorCode);
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfMatchStarAndMissing_ThrowsConditionNotMet()
    {
        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.PutBlockBlobAsync("a", Bytes("x"), new BlobWriteOptions { Conditions = new BlobConditions { IfMatch = "*" } }, CancellationToken.None));

        Assert.Equal(412, error.Status);
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfMatchStarAndExists_Replaces()
    {
        await PutAsync("a", "x");

        await _store.PutBlockBlobAsync("a", Bytes("y"), new BlobWriteOptions { Conditions = new BlobConditions { IfMatch = "*" } }, CancellationToken.None);

        Assert.Equal("y", await ReadAsync("a"));
    }

    [Fact]
    public async Task GetProperties_WhenIfNoneMatchMatches_Throws304WithConditionNotMetCode()
    {
        var written = await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.GetPropertiesAsync("a", new BlobConditions { IfNoneMatch = written.ETag }, CancellationToken.None));

        Assert.Equal(304, error.Status);
        Assert.Equal(BlobErrorCodes.ConditionNotMet, error.ErrorCode);
        Assert.True(error.IsNotModified);
    }

    [Fact]
    public async Task GetProperties_WhenIfNoneMatchStar_ThrowsUnsatisfiableCondition()
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.GetPropertiesAsync("a", BlobConditions.IfNotExists, CancellationToken.None));

        Assert.Equal(400, error.Status);
        Assert.Equal("UnsatisfiableCondition", error.ErrorCode);
    }

    [Fact]
    public async Task GetProperties_WhenIfMatchAndBlobMissing_ThrowsConditionNotMetBeforeNotFound()
    {
        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.GetPropertiesAsync("missing", BlobConditions.IfMatchETag("\"0x1\""), CancellationToken.None));

        Assert.Equal(412, error.Status);
    }

    [Fact]
    public async Task Download_WhenETagConditionUnquoted_StillMatches()
    {
        var written = await PutAsync("a", "x");

        var download = await _store.DownloadAsync("a", BlobRange.All, BlobConditions.IfMatchETag(written.ETag.Trim('"')), CancellationToken.None);

        Assert.Equal(written.ETag, download.Properties.ETag);
    }

    [Fact]
    public async Task Download_WhenEmptyBlobAndAnyRange_ThrowsInvalidRange()
    {
        await PutAsync("empty", string.Empty);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.DownloadAsync("empty", new BlobRange(0, 10), default, CancellationToken.None));

        Assert.Equal(416, error.Status);
        Assert.Equal(BlobErrorCodes.InvalidRange, error.ErrorCode);
    }

    [Fact]
    public async Task Download_WhenRangeLengthNotPositive_ThrowsArgumentOutOfRange()
    {
        await PutAsync("a", "x");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.DownloadAsync("a", new BlobRange(0, 0), default, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.DownloadAsync("a", new BlobRange(-1, null), default, CancellationToken.None));
    }

    [Fact]
    public async Task Download_WhenLeaseIdGivenAndBlobNotLeased_ThrowsLeaseNotPresentWithBlobOperation()
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.DownloadAsync("a", BlobRange.All, BlobConditions.WithLease(Guid.NewGuid().ToString()), CancellationToken.None));

        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.LeaseNotPresentWithBlobOperation, error.ErrorCode);
    }

    [Fact]
    public async Task List_WhenContainerMissing_ThrowsContainerNotFound()
    {
        var store = new InMemoryBlobStore("other", _clock);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => store.ListAsync(string.Empty, null, null, CancellationToken.None));

        Assert.True(error.IsContainerNotFound);
    }

    [Fact]
    public async Task List_WhenPageSizeHintTooLarge_ReturnsAtMost5000()
    {
        for (var i = 0; i < 5001; i++)
        {
            await PutAsync($"b/{i:D5}", "x");
        }

        var first = await _store.ListAsync("b/", null, 10_000, CancellationToken.None);
        var second = await _store.ListAsync("b/", first.ContinuationToken, 10_000, CancellationToken.None);

        Assert.Equal(5000, first.Items.Count);
        Assert.NotNull(first.ContinuationToken);
        Assert.Equal(["b/05000"], second.Items.Select(i => i.Name));
        Assert.Null(second.ContinuationToken);
    }

    [Fact]
    public async Task List_WhenPageSizeHintZero_ThrowsBadRequest()
    {
        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.ListAsync(string.Empty, null, 0, CancellationToken.None));

        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task List_WhenPageEndsExactlyAtLastMatch_ReturnsNoToken()
    {
        await PutAsync("k/1", "x");
        await PutAsync("k/2", "x");
        await PutAsync("l/1", "x");

        var page = await _store.ListAsync("k/", null, 2, CancellationToken.None);

        Assert.Equal(["k/1", "k/2"], page.Items.Select(i => i.Name));
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task List_WhenBlobDeletedBetweenPages_ContinuesAfterTheLastNameSeen()
    {
        foreach (var name in new[] { "k/1", "k/2", "k/3", "k/4" })
        {
            await PutAsync(name, "x");
        }

        var first = await _store.ListAsync("k/", null, 2, CancellationToken.None);
        await _store.DeleteAsync("k/2", default, CancellationToken.None);
        var second = await _store.ListAsync("k/", first.ContinuationToken, 2, CancellationToken.None);

        Assert.Equal(["k/3", "k/4"], second.Items.Select(i => i.Name));
    }

    [Fact]
    public async Task List_WhenContinuationTokenIsGarbage_ThrowsBadRequest()
    {
        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.ListAsync(string.Empty, "not a token", null, CancellationToken.None));

        Assert.Equal(400, error.Status);
    }

    // ---------------------------------------------------------------- append blobs

    [Fact]
    public async Task AppendBlock_WhenBlockCountLimitLowered_ThrowsBlockCountExceedsLimitAtTheLimit()
    {
        _store.MaxAppendBlocks = 3;
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync("log", "x");
        }

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => AppendAsync("log", "y"));

        Assert.Equal(409, error.Status);
        Assert.Equal(BlobErrorCodes.BlockCountExceedsLimit, error.ErrorCode);
        Assert.True(error.IsBlockCountExceeded);
        Assert.Equal("xxx", await ReadAsync("log"));
    }

    [Fact]
    public void MaxAppendBlocks_WhenOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _store.MaxAppendBlocks = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => _store.MaxAppendBlocks = BlobLimits.MaxAppendBlocks + 1);
    }

    [Fact]
    public async Task AppendBlock_WhenEmpty_ThrowsInvalidHeaderValue()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => AppendAsync("log", string.Empty));

        Assert.Equal(400, error.Status);
        Assert.Equal(BlobErrorCodes.InvalidHeaderValue, error.ErrorCode);
    }

    [Fact]
    public async Task AppendBlock_WhenOverMaxBlockSize_ThrowsRequestBodyTooLarge()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AppendBlockAsync("log", new byte[BlobLimits.MaxAppendBlockBytes + 1], default, CancellationToken.None));

        Assert.Equal(413, error.Status);
        Assert.Equal(BlobErrorCodes.RequestBodyTooLarge, error.ErrorCode);
    }

    [Fact]
    public async Task AppendBlock_WhenExactlyMaxBlockSize_Appends()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);

        var result = await _store.AppendBlockAsync("log", new byte[BlobLimits.MaxAppendBlockBytes], default, CancellationToken.None);

        Assert.Equal(1, result.CommittedBlockCount);
        Assert.Equal(BlobLimits.MaxAppendBlockBytes, (await _store.GetPropertiesAsync("log", default, CancellationToken.None)).ContentLength);
    }

    [Fact]
    public async Task AppendBlock_WhenManySmallBlocks_KeepsEveryByteInOrder()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        var expected = new StringBuilder();
        for (var i = 0; i < 2000; i++)
        {
            var text = $"{i};";
            var result = await AppendAsync("log", text);
            Assert.Equal(expected.Length, result.AppendOffset);
            expected.Append(text);
        }

        Assert.Equal(expected.ToString(), await ReadAsync("log"));
        var tail = await _store.DownloadAsync("log", new BlobRange(expected.Length - 5, null), default, CancellationToken.None);
        Assert.Equal("1999;", Encoding.UTF8.GetString(tail.Content.Span));
    }

    [Fact]
    public async Task AppendBlock_WhenSealedAndWrongAppendPosition_ThrowsBlobIsSealed()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        await AppendAsync("log", "abc");
        await _store.SealAsync("log", default, CancellationToken.None);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AppendBlockAsync("log", Bytes("x"), new AppendConditions { AppendPosition = 0 }, CancellationToken.None));

        Assert.Equal(BlobErrorCodes.BlobIsSealed, error.ErrorCode);
    }

    [Fact]
    public async Task Seal_WhenCalled_ChangesETagEveryTimeLikeAzurite()
    {
        var created = await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);

        var first = await _store.SealAsync("log", default, CancellationToken.None);
        var second = await _store.SealAsync("log", default, CancellationToken.None);

        Assert.NotEqual(created.ETag, first.ETag);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(second.ETag, (await _store.GetPropertiesAsync("log", default, CancellationToken.None)).ETag);
    }

    [Fact]
    public async Task CreateAppendBlob_WhenReplacingSealedBlob_IsEmptyAndUnsealed()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        await AppendAsync("log", "abc");
        await _store.SealAsync("log", default, CancellationToken.None);

        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);

        var properties = await _store.GetPropertiesAsync("log", default, CancellationToken.None);
        Assert.False(properties.IsSealed);
        Assert.Equal(0, properties.ContentLength);
        Assert.Equal(0, properties.CommittedBlockCount);
    }

    // ---------------------------------------------------------------- leases

    [Fact]
    public async Task LeaseOperations_NeverChangeETagOrLastModified()
    {
        var written = await PutAsync("a", "x");
        _clock.Advance(TimeSpan.FromSeconds(3));

        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        var renewed = await _store.RenewLeaseAsync("a", lease.LeaseId, CancellationToken.None);
        var changed = await _store.ChangeLeaseAsync("a", lease.LeaseId, Guid.NewGuid().ToString(), CancellationToken.None);
        await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(5), CancellationToken.None);
        await _store.ReleaseLeaseAsync("a", changed.LeaseId, CancellationToken.None);

        Assert.Equal(written.ETag, lease.ETag);
        Assert.Equal(written.ETag, renewed.ETag);
        Assert.Equal(written.ETag, changed.ETag);
        var properties = await _store.GetPropertiesAsync("a", default, CancellationToken.None);
        Assert.Equal(written.ETag, properties.ETag);
        Assert.Equal(written.LastModified, properties.LastModified);
    }

    [Fact]
    public async Task AcquireLease_WhenNoProposedId_GeneratesDistinctGuidIds()
    {
        await PutAsync("a", "x");
        await PutAsync("b", "x");

        var a = await _store.AcquireLeaseAsync("a", Fifteen, null, default, CancellationToken.None);
        var b = await _store.AcquireLeaseAsync("b", Fifteen, null, default, CancellationToken.None);

        Assert.True(Guid.TryParse(a.LeaseId, out _));
        Assert.NotEqual(a.LeaseId, b.LeaseId);
    }

    [Fact]
    public async Task AcquireLease_WhenProposedIdIsNotAGuid_ThrowsInvalidHeaderValue()
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => AcquireAsync("a", "node-1"));

        Assert.Equal(400, error.Status);
        Assert.Equal(BlobErrorCodes.InvalidHeaderValue, error.ErrorCode);
    }

    [Theory]
    [InlineData(14)]
    [InlineData(61)]
    [InlineData(0)]
    public async Task AcquireLease_WhenDurationOutOfRange_ThrowsInvalidHeaderValue(int seconds)
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => AcquireAsync("a", null, TimeSpan.FromSeconds(seconds)));

        Assert.Equal(BlobErrorCodes.InvalidHeaderValue, error.ErrorCode);
    }

    [Fact]
    public async Task AcquireLease_WhenDurationNotWholeSeconds_ThrowsInvalidHeaderValue()
    {
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => AcquireAsync("a", null, TimeSpan.FromSeconds(15.5)));

        Assert.Equal(BlobErrorCodes.InvalidHeaderValue, error.ErrorCode);
    }

    [Fact]
    public async Task AcquireLease_WithSameIdAndNewDuration_TakesTheNewDuration()
    {
        await PutAsync("a", "x");
        var id = Guid.NewGuid().ToString();
        await AcquireAsync("a", id, Fifteen);

        await AcquireAsync("a", id, TimeSpan.FromSeconds(60));
        _clock.Advance(TimeSpan.FromSeconds(59));

        Assert.Equal(LeaseState.Leased, await LeaseStateAsync("a"));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(LeaseState.Expired, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task Lease_WhenDurationElapses_ExpiresExactlyAtTheEnd()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString());

        _clock.Advance(Fifteen - TimeSpan.FromTicks(1));
        Assert.Equal(LeaseState.Leased, await LeaseStateAsync("a"));
        _clock.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(LeaseState.Expired, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task Lease_WhenInfinite_NeverExpires()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString(), Timeout.InfiniteTimeSpan);

        _clock.Advance(TimeSpan.FromDays(30));

        Assert.Equal(LeaseState.Leased, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task Write_WhenLeaseExpiredAndOldIdGiven_ThrowsLeaseNotPresentWithBlobOperationLikeAzurite()
    {
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        var lease = await AcquireAsync("log", Guid.NewGuid().ToString());
        _clock.Advance(Fifteen);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AppendBlockAsync("log", Bytes("x"), new AppendConditions { LeaseId = lease.LeaseId }, CancellationToken.None));

        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.LeaseNotPresentWithBlobOperation, error.ErrorCode);
        Assert.True(error.IsLeaseLost);
    }

    [Fact]
    public async Task Write_WithLeaseIdInOtherCase_IsAccepted()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());

        await _store.PutBlockBlobAsync("a", Bytes("y"), new BlobWriteOptions { Conditions = BlobConditions.WithLease(lease.LeaseId.ToUpperInvariant()) }, CancellationToken.None);

        Assert.Equal("y", await ReadAsync("a"));
    }

    [Fact]
    public async Task RenewLease_WhenExpiredAndUntouched_RenewsWithSameId()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        _clock.Advance(TimeSpan.FromSeconds(20));

        var renewed = await _store.RenewLeaseAsync("a", lease.LeaseId, CancellationToken.None);

        Assert.Equal(lease.LeaseId, renewed.LeaseId);
        Assert.Equal(LeaseState.Leased, await LeaseStateAsync("a"));
        _clock.Advance(Fifteen);
        Assert.Equal(LeaseState.Expired, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task RenewLease_WhenExpiredAndWrongId_ThrowsLeaseIdMismatch()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString());
        _clock.Advance(TimeSpan.FromSeconds(20));

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.RenewLeaseAsync("a", Guid.NewGuid().ToString(), CancellationToken.None));

        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, error.ErrorCode);
    }

    [Fact]
    public async Task RenewLease_WhenExpiredAndBlobWrittenSince_ThrowsLeaseIdMismatch()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        _clock.Advance(TimeSpan.FromSeconds(20));
        await PutAsync("a", "y");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.RenewLeaseAsync("a", lease.LeaseId, CancellationToken.None));

        Assert.Equal(409, error.Status);
        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, error.ErrorCode);
        Assert.Equal(LeaseState.Available, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task RenewLease_WhenExpiredAndAcquiredByAnother_ThrowsLeaseIdMismatch()
    {
        await PutAsync("a", "x");
        var stale = await AcquireAsync("a", Guid.NewGuid().ToString());
        _clock.Advance(TimeSpan.FromSeconds(20));
        await AcquireAsync("a", Guid.NewGuid().ToString());

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.RenewLeaseAsync("a", stale.LeaseId, CancellationToken.None));

        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, error.ErrorCode);
    }

    [Fact]
    public async Task RenewAndRelease_WhenBlobNeverLeased_ThrowLeaseIdMismatchLikeAzurite()
    {
        await PutAsync("a", "x");

        var renew = await Assert.ThrowsAsync<BlobStorageException>(() => _store.RenewLeaseAsync("a", Guid.NewGuid().ToString(), CancellationToken.None));
        var release = await Assert.ThrowsAsync<BlobStorageException>(() => _store.ReleaseLeaseAsync("a", Guid.NewGuid().ToString(), CancellationToken.None));
        var change = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.ChangeLeaseAsync("a", Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), CancellationToken.None));

        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, renew.ErrorCode);
        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, release.ErrorCode);
        Assert.Equal(BlobErrorCodes.LeaseNotPresentWithLeaseOperation, change.ErrorCode);
        Assert.All([renew, release, change], e => Assert.Equal(409, e.Status));
    }

    [Fact]
    public async Task ChangeLease_WhenRepeatedWithSameIds_IsIdempotent()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        var proposed = Guid.NewGuid().ToString();

        await _store.ChangeLeaseAsync("a", lease.LeaseId, proposed, CancellationToken.None);
        var again = await _store.ChangeLeaseAsync("a", lease.LeaseId, proposed, CancellationToken.None);

        Assert.Equal(proposed, again.LeaseId);
    }

    [Fact]
    public async Task BreakLease_WithoutPeriodOnFixedLease_BreaksWhenTheLeaseWouldHaveExpired()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString(), TimeSpan.FromSeconds(20));
        _clock.Advance(TimeSpan.FromSeconds(4));

        var remaining = await _store.BreakLeaseAsync("a", null, CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(16), remaining);
        _clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(LeaseState.Breaking, await LeaseStateAsync("a"));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(LeaseState.Broken, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task BreakLease_WithPeriodLongerThanLeaseLeft_BreaksWhenLeaseWouldHaveExpired()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString());
        _clock.Advance(TimeSpan.FromSeconds(10));

        var remaining = await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(5), remaining);
    }

    [Fact]
    public async Task BreakLease_WithoutPeriodOnInfiniteLease_BreaksAtOnce()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString(), Timeout.InfiniteTimeSpan);

        var remaining = await _store.BreakLeaseAsync("a", null, CancellationToken.None);

        Assert.Equal(TimeSpan.Zero, remaining);
        Assert.Equal(LeaseState.Broken, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task BreakLease_WhenBreakingAgainWithShorterPeriod_ShortensButNeverLengthens()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString(), Timeout.InfiniteTimeSpan);
        await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(30), CancellationToken.None);

        var longer = await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(50), CancellationToken.None);
        var shorter = await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(10), CancellationToken.None);
        var unchanged = await _store.BreakLeaseAsync("a", null, CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(30), longer);
        Assert.Equal(TimeSpan.FromSeconds(10), shorter);
        Assert.Equal(TimeSpan.FromSeconds(10), unchanged);
    }

    [Theory]
    [InlineData(61)]
    [InlineData(-1)]
    public async Task BreakLease_WhenPeriodOutOfRange_ThrowsInvalidHeaderValueAndKeepsLease(int seconds)
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString());

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(seconds), CancellationToken.None));

        Assert.Equal(BlobErrorCodes.InvalidHeaderValue, error.ErrorCode);
        Assert.Equal(LeaseState.Leased, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task BreakLease_WhenExpiredOrBroken_IsBrokenAndReturnsZero()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", Guid.NewGuid().ToString());
        _clock.Advance(Fifteen);

        Assert.Equal(TimeSpan.Zero, await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(LeaseState.Broken, await LeaseStateAsync("a"));
        Assert.Equal(TimeSpan.Zero, await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(LeaseState.Broken, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task Lease_WhenBreaking_HolderCanStillWriteButNotRenewOrChange()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        await _store.BreakLeaseAsync("a", TimeSpan.FromSeconds(10), CancellationToken.None);

        await _store.SetMetadataAsync("a", new Dictionary<string, string> { ["k"] = "v" }, BlobConditions.WithLease(lease.LeaseId), CancellationToken.None);
        var missing = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.SetMetadataAsync("a", new Dictionary<string, string>(), default, CancellationToken.None));
        var renew = await Assert.ThrowsAsync<BlobStorageException>(() => _store.RenewLeaseAsync("a", lease.LeaseId, CancellationToken.None));
        var change = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.ChangeLeaseAsync("a", lease.LeaseId, Guid.NewGuid().ToString(), CancellationToken.None));
        var acquireSameId = await Assert.ThrowsAsync<BlobStorageException>(() => AcquireAsync("a", lease.LeaseId));
        var acquireOtherId = await Assert.ThrowsAsync<BlobStorageException>(() => AcquireAsync("a", Guid.NewGuid().ToString()));

        Assert.Equal(BlobErrorCodes.LeaseIdMissing, missing.ErrorCode);
        Assert.Equal(BlobErrorCodes.LeaseIsBrokenAndCannotBeRenewed, renew.ErrorCode);
        Assert.Equal(BlobErrorCodes.LeaseIsBreakingAndCannotBeChanged, change.ErrorCode);
        Assert.Equal(BlobErrorCodes.LeaseIsBreakingAndCannotBeAcquired, acquireSameId.ErrorCode);
        Assert.Equal(BlobErrorCodes.LeaseAlreadyPresent, acquireOtherId.ErrorCode);
    }

    [Fact]
    public async Task ReleaseLease_WhenBroken_WithItsIdMakesBlobAvailable()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        await _store.BreakLeaseAsync("a", TimeSpan.Zero, CancellationToken.None);

        await _store.ReleaseLeaseAsync("a", lease.LeaseId, CancellationToken.None);

        Assert.Equal(LeaseState.Available, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task Write_WhenLeaseBroken_WithoutIdSucceedsAndMakesBlobAvailable()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        await _store.BreakLeaseAsync("a", TimeSpan.Zero, CancellationToken.None);

        await _store.SetMetadataAsync("a", new Dictionary<string, string>(), default, CancellationToken.None);

        Assert.Equal(LeaseState.Available, await LeaseStateAsync("a"));
        var release = await Assert.ThrowsAsync<BlobStorageException>(() => _store.ReleaseLeaseAsync("a", lease.LeaseId, CancellationToken.None));
        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, release.ErrorCode);
    }

    [Fact]
    public async Task AcquireLease_WhenIfMatchStale_ThrowsConditionNotMet()
    {
        var old = await PutAsync("a", "x");
        await PutAsync("a", "y");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AcquireLeaseAsync("a", Fifteen, null, BlobConditions.IfMatchETag(old.ETag), CancellationToken.None));

        Assert.True(error.IsConditionNotMet);
        Assert.Equal(LeaseState.Available, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task Delete_ThenRecreate_StartsWithoutLease()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        await _store.DeleteAsync("a", BlobConditions.WithLease(lease.LeaseId), CancellationToken.None);

        await PutAsync("a", "y");

        Assert.Equal(LeaseState.Available, await LeaseStateAsync("a"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenCancelledBeforeStart_ThrowsAndWritesNothing()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.PutBlockBlobAsync("a", Bytes("x"), default, cancellation.Token));

        Assert.Empty((await _store.ListAsync(string.Empty, null, null, CancellationToken.None)).Items);
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private Task<BlobWriteResult> PutAsync(string name, string content) =>
        _store.PutBlockBlobAsync(name, Bytes(content), default, CancellationToken.None);

    private Task<AppendResult> AppendAsync(string name, string content) =>
        _store.AppendBlockAsync(name, Bytes(content), default, CancellationToken.None);

    private Task<LeaseResult> AcquireAsync(string name, string? proposedId, TimeSpan? duration = null) =>
        _store.AcquireLeaseAsync(name, duration ?? Fifteen, proposedId, default, CancellationToken.None);

    private async Task<LeaseState> LeaseStateAsync(string name) =>
        (await _store.GetPropertiesAsync(name, default, CancellationToken.None)).LeaseState;

    private async Task<string> ReadAsync(string name) =>
        Encoding.UTF8.GetString((await _store.DownloadAsync(name, BlobRange.All, default, CancellationToken.None)).Content.Span);
}
