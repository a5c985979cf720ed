using AzKv.Storage;

namespace AzKv.Storage.Tests.Contract;

public abstract partial class BlobStoreContractTests
{
    // ---------------------------------------------------------------- append blobs

    [Fact]
    public async Task CreateAppendBlob_WhenNew_IsEmptyAppendBlob()
    {
        await CreateAppendAsync("log");
        var properties = await Store.GetPropertiesAsync("log", default, CancellationToken.None);
        Assert.Equal(BlobKind.Append, properties.Kind);
        Assert.Equal(0, properties.ContentLength);
        Assert.Equal(0, properties.CommittedBlockCount);
        Assert.False(properties.IsSealed);
    }

    [Fact]
    public async Task CreateAppendBlob_WhenIfNoneMatchStarAndExists_ThrowsAlreadyExists()
    {
        await CreateAppendAsync("log");
        await AppendAsync("log", "keep");
        var error = await ThrowsStorageAsync(() => CreateAppendAsync("log", BlobConditions.IfNotExists));
        Assert.True(error.IsAlreadyExists);
        Assert.Equal("keep", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WhenAppendedTwice_ReturnsOffsetsAndBlockCounts()
    {
        await CreateAppendAsync("log");

        var first = await AppendAsync("log", "abc");
        var second = await AppendAsync("log", "defg");

        Assert.Equal(0, first.AppendOffset);
        Assert.Equal(1, first.CommittedBlockCount);
        Assert.Equal(3, second.AppendOffset);
        Assert.Equal(2, second.CommittedBlockCount);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal("abcdefg", await ReadTextAsync("log"));
        var properties = await Store.GetPropertiesAsync("log", default, CancellationToken.None);
        Assert.Equal(7, properties.ContentLength);
        Assert.Equal(2, properties.CommittedBlockCount);
        Assert.Equal(second.ETag, properties.ETag);
    }

    [Fact]
    public async Task AppendBlock_WithMatchingAppendPosition_Appends()
    {
        await CreateAppendAsync("log");
        await AppendAsync("log", "abc", new AppendConditions { AppendPosition = 0 });
        var result = await AppendAsync("log", "de", new AppendConditions { AppendPosition = 3 });
        Assert.Equal(3, result.AppendOffset);
        Assert.Equal("abcde", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WithStaleAppendPosition_ThrowsAppendPositionMismatchAndAppendsNothing()
    {
        await CreateAppendAsync("log");
        await AppendAsync("log", "abc");
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "zz", new AppendConditions { AppendPosition = 0 }));
        Assert.True(error.IsAppendPositionMismatch);
        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.AppendPositionConditionNotMet, error.ErrorCode);
        Assert.Equal("abc", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WithAppendPositionPastEnd_ThrowsAppendPositionMismatch()
    {
        await CreateAppendAsync("log");
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "zz", new AppendConditions { AppendPosition = 5 }));
        Assert.True(error.IsAppendPositionMismatch);
    }

    [Fact]
    public async Task AppendBlock_WhenIfMatchStale_ThrowsConditionNotMet()
    {
        var created = await CreateAppendAsync("log");
        await AppendAsync("log", "a");
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "b", new AppendConditions { IfMatch = created.ETag }));
        Assert.True(error.IsConditionNotMet);
        Assert.Equal("a", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WhenBlobMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() => AppendAsync("missing", "a"));
        Assert.True(error.IsNotFound);
    }

    [Fact]
    public async Task AppendBlock_WhenBlockBlob_ThrowsInvalidBlobType()
    {
        await PutAsync("block", "x");
        var error = await ThrowsStorageAsync(() => AppendAsync("block", "a"));
        Assert.True(error.IsInvalidBlobType);
        Assert.Equal(409, error.Status);
        Assert.Equal("x", await ReadTextAsync("block"));
    }

    [Fact]
    public async Task AppendBlock_WhenSealed_ThrowsBlobSealedAndAppendsNothing()
    {
        await CreateAppendAsync("log");
        await AppendAsync("log", "abc");
        await Store.SealAsync("log", default, CancellationToken.None);
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "d"));
        Assert.True(error.IsBlobSealed);
        Assert.Equal(409, error.Status);
        Assert.Equal("abc", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WhenLeasedAndNoLeaseId_ThrowsLeaseIdMissing()
    {
        await CreateAppendAsync("log");
        await AcquireAsync("log");
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "a"));
        Assert.True(error.IsLeaseLost);
        Assert.Equal(BlobErrorCodes.LeaseIdMissing, error.ErrorCode);
        Assert.Equal(string.Empty, await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WhenLeasedAndWrongLeaseId_ThrowsLeaseIdMismatch()
    {
        await CreateAppendAsync("log");
        await AcquireAsync("log");
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "a", new AppendConditions { LeaseId = Guid.NewGuid().ToString() }));
        Assert.True(error.IsLeaseLost);
        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithBlobOperation, error.ErrorCode);
    }

    [Fact]
    public async Task AppendBlock_WhenLeaseIdGivenButBlobNotLeased_ThrowsLeaseNotPresent()
    {
        await CreateAppendAsync("log");
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "a", new AppendConditions { LeaseId = Guid.NewGuid().ToString() }));
        Assert.True(error.IsLeaseLost);
        Assert.Equal(BlobErrorCodes.LeaseNotPresentWithBlobOperation, error.ErrorCode);
    }

    [Fact]
    public async Task AppendBlock_WithLeaseIdAndAppendPosition_Appends()
    {
        await CreateAppendAsync("log");
        var lease = await AcquireAsync("log");
        await AppendAsync("log", "ab", new AppendConditions { LeaseId = lease.LeaseId, AppendPosition = 0 });
        var second = await AppendAsync("log", "cd", new AppendConditions { LeaseId = lease.LeaseId, AppendPosition = 2 });
        Assert.Equal(2, second.AppendOffset);
        Assert.Equal("abcd", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task AppendBlock_WhenOverMaxBlockSize_ThrowsAndAppendsNothing()
    {
        await CreateAppendAsync("log");
        var error = await ThrowsStorageAsync(() =>
            Store.AppendBlockAsync("log", new byte[BlobLimits.MaxAppendBlockBytes + 1], default, CancellationToken.None));
        Assert.Equal(413, error.Status);
        var properties = await Store.GetPropertiesAsync("log", default, CancellationToken.None);
        Assert.Equal(0, properties.ContentLength);
    }

    [Fact]
    public async Task AppendBlock_WhenConcurrentWritersUseAppendPosition_ExactlyOneWinsEachPosition()
    {
        await CreateAppendAsync("log");
        var attempts = Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await AppendAsync("log", i.ToString(System.Globalization.CultureInfo.InvariantCulture), new AppendConditions { AppendPosition = 0 });
                return true;
            }
            catch (BlobStorageException ex) when (ex.IsAppendPositionMismatch)
            {
                return false;
            }
        }).ToArray();

        var outcomes = await Task.WhenAll(attempts);

        Assert.Single(outcomes, won => won);
        Assert.Equal(1, (await ReadTextAsync("log")).Length);
    }

    // ---------------------------------------------------------------- seal

    [Fact]
    public async Task Seal_WhenAppendBlob_ReportsSealedAndKeepsContent()
    {
        await CreateAppendAsync("log");
        await AppendAsync("log", "abc");
        await Store.SealAsync("log", default, CancellationToken.None);
        var properties = await Store.GetPropertiesAsync("log", default, CancellationToken.None);
        Assert.True(properties.IsSealed);
        Assert.Equal(3, properties.ContentLength);
        Assert.Equal("abc", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task Seal_WhenAlreadySealed_Succeeds()
    {
        await CreateAppendAsync("log");
        await Store.SealAsync("log", default, CancellationToken.None);
        await Store.SealAsync("log", default, CancellationToken.None);
        Assert.True((await Store.GetPropertiesAsync("log", default, CancellationToken.None)).IsSealed);
    }

    [Fact]
    public async Task Seal_WhenLeasedAndNoLeaseId_ThrowsLeaseIdMissing()
    {
        await CreateAppendAsync("log");
        var lease = await AcquireAsync("log");
        var error = await ThrowsStorageAsync(() => Store.SealAsync("log", default, CancellationToken.None));
        Assert.True(error.IsLeaseLost);
        await Store.SealAsync("log", BlobConditions.WithLease(lease.LeaseId), CancellationToken.None);
        Assert.True((await Store.GetPropertiesAsync("log", default, CancellationToken.None)).IsSealed);
    }

    [Fact]
    public async Task Seal_WhenBlockBlob_ThrowsInvalidBlobType()
    {
        await PutAsync("block", "x");
        var error = await ThrowsStorageAsync(() => Store.SealAsync("block", default, CancellationToken.None));
        Assert.True(error.IsInvalidBlobType);
    }

    [Fact]
    public async Task Seal_WhenMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() => Store.SealAsync("missing", default, CancellationToken.None));
        Assert.True(error.IsNotFound);
    }

    // ---------------------------------------------------------------- leases

    [Fact]
    public async Task AcquireLease_WhenAvailable_ReturnsProposedIdAndBlobIsLeased()
    {
        await CreateAppendAsync("log");
        var proposed = Guid.NewGuid().ToString();
        var lease = await AcquireAsync("log", proposed);
        Assert.Equal(proposed, lease.LeaseId);
        var properties = await Store.GetPropertiesAsync("log", default, CancellationToken.None);
        Assert.Equal(LeaseState.Leased, properties.LeaseState);
    }

    [Fact]
    public async Task AcquireLease_WhenNoProposedId_ReturnsAGeneratedId()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a");
        Assert.True(Guid.TryParse(lease.LeaseId, out _));
    }

    [Fact]
    public async Task AcquireLease_WhenLeasedByAnother_ThrowsLeaseAlreadyPresent()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");
        var error = await ThrowsStorageAsync(() => AcquireAsync("a", Guid.NewGuid().ToString()));
        Assert.True(error.IsLeaseConflict);
        Assert.Equal(409, error.Status);
        Assert.Equal(BlobErrorCodes.LeaseAlreadyPresent, error.ErrorCode);
    }

    [Fact]
    public async Task AcquireLease_WithActiveLeaseId_RenewsAndReturnsSameId()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a", Guid.NewGuid().ToString());
        var again = await AcquireAsync("a", lease.LeaseId);
        Assert.Equal(lease.LeaseId, again.LeaseId);
    }

    [Fact]
    public async Task AcquireLease_WithInvalidDuration_ThrowsBadRequest()
    {
        await PutAsync("a", "x");
        var error = await ThrowsStorageAsync(() => AcquireAsync("a", duration: TimeSpan.FromSeconds(5)));
        Assert.Equal(400, error.Status);
        Assert.Equal(BlobErrorCodes.InvalidHeaderValue, error.ErrorCode);
        Assert.Equal(LeaseState.Available, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState);
    }

    [Fact]
    public async Task AcquireLease_WhenInfinite_IsLeased()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a", duration: Timeout.InfiniteTimeSpan);
        Assert.Equal(LeaseState.Leased, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState);
    }

    [Fact]
    public async Task AcquireLease_WhenBlobMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() => AcquireAsync("missing"));
        Assert.True(error.IsNotFound);
    }

    [Fact]
    public async Task AcquireLease_DoesNotChangeETag()
    {
        var written = await PutAsync("a", "x");
        await AcquireAsync("a");
        Assert.Equal(written.ETag, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).ETag);
    }

    [Fact]
    public async Task RenewLease_WithActiveLeaseId_KeepsLease()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a");
        var renewed = await Store.RenewLeaseAsync("a", lease.LeaseId, CancellationToken.None);
        Assert.Equal(lease.LeaseId, renewed.LeaseId);
        Assert.Equal(LeaseState.Leased, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState);
    }

    [Fact]
    public async Task RenewLease_WithWrongId_ThrowsLeaseIdMismatch()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");
        var error = await ThrowsStorageAsync(() => Store.RenewLeaseAsync("a", Guid.NewGuid().ToString(), CancellationToken.None));
        Assert.True(error.IsLeaseConflict);
        Assert.True(error.IsLeaseLost);
        Assert.Equal(BlobErrorCodes.LeaseIdMismatchWithLeaseOperation, error.ErrorCode);
    }

    [Fact]
    public async Task RenewLease_WhenBlobNotLeased_ThrowsLeaseNotPresent()
    {
        await PutAsync("a", "x");
        var error = await ThrowsStorageAsync(() => Store.RenewLeaseAsync("a", Guid.NewGuid().ToString(), CancellationToken.None));
        Assert.True(error.IsLeaseConflict);
        Assert.Equal(409, error.Status);
    }

    [Fact]
    public async Task RenewLease_AfterBreak_ThrowsLeaseBrokenAndCannotBeRenewed()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a");
        await Store.BreakLeaseAsync("a", TimeSpan.Zero, CancellationToken.None);
        var error = await ThrowsStorageAsync(() => Store.RenewLeaseAsync("a", lease.LeaseId, CancellationToken.None));
        Assert.True(error.IsLeaseLost);
        Assert.Equal(BlobErrorCodes.LeaseIsBrokenAndCannotBeRenewed, error.ErrorCode);
    }

    [Fact]
    public async Task ReleaseLease_WhenHeld_LetsAnotherAcquireAtOnce()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a");
        await Store.ReleaseLeaseAsync("a", lease.LeaseId, CancellationToken.None);
        Assert.Equal(LeaseState.Available, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState);
        var other = await AcquireAsync("a", Guid.NewGuid().ToString());
        Assert.NotEqual(lease.LeaseId, other.LeaseId);
    }

    [Fact]
    public async Task ReleaseLease_WithWrongId_ThrowsLeaseIdMismatchAndKeepsLease()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");
        var error = await ThrowsStorageAsync(() => Store.ReleaseLeaseAsync("a", Guid.NewGuid().ToString(), CancellationToken.None));
        Assert.True(error.IsLeaseConflict);
        Assert.Equal(LeaseState.Leased, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState);
    }

    [Fact]
    public async Task ChangeLease_WhenHeld_OldIdStopsWorkingNewIdWorks()
    {
        await CreateAppendAsync("log");
        var lease = await AcquireAsync("log");
        var proposed = Guid.NewGuid().ToString();

        var changed = await Store.ChangeLeaseAsync("log", lease.LeaseId, proposed, CancellationToken.None);

        Assert.Equal(proposed, changed.LeaseId);
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "a", new AppendConditions { LeaseId = lease.LeaseId }));
        Assert.True(error.IsLeaseLost);
        await AppendAsync("log", "b", new AppendConditions { LeaseId = proposed });
        Assert.Equal("b", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task ChangeLease_WithWrongId_ThrowsLeaseConflict()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");
        var error = await ThrowsStorageAsync(() =>
            Store.ChangeLeaseAsync("a", Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), CancellationToken.None));
        Assert.True(error.IsLeaseConflict);
    }

    [Fact]
    public async Task BreakLease_WithZeroPeriod_OldHolderIsFencedAndAnotherCanAcquire()
    {
        await CreateAppendAsync("log");
        var zombie = await AcquireAsync("log");

        var remaining = await Store.BreakLeaseAsync("log", TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(TimeSpan.Zero, remaining);
        Assert.Equal(LeaseState.Broken, (await Store.GetPropertiesAsync("log", default, CancellationToken.None)).LeaseState);
        var successor = await AcquireAsync("log", Guid.NewGuid().ToString());
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "zombie", new AppendConditions { LeaseId = zombie.LeaseId }));
        Assert.True(error.IsLeaseLost);
        await AppendAsync("log", "ok", new AppendConditions { LeaseId = successor.LeaseId });
        Assert.Equal("ok", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task BreakLease_WithPeriod_IsBreakingThenBroken()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");

        var remaining = await Store.BreakLeaseAsync("a", TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.InRange(remaining, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(LeaseState.Breaking, (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState);
        // Azure and Azurite answer LeaseAlreadyPresent for a new id and LeaseIsBreakingAndCannotBeAcquired
        // for the breaking lease's own id; both are a conflict.
        var error = await ThrowsStorageAsync(() => AcquireAsync("a", Guid.NewGuid().ToString()));
        Assert.True(error.IsLeaseConflict);
        Assert.Equal(409, error.Status);

        await ElapseUntilAsync(TimeSpan.FromSeconds(2), async () =>
            (await Store.GetPropertiesAsync("a", default, CancellationToken.None)).LeaseState == LeaseState.Broken);

        await AcquireAsync("a", Guid.NewGuid().ToString());
    }

    [Fact]
    public async Task BreakLease_WhenNotLeased_ThrowsLeaseNotPresent()
    {
        await PutAsync("a", "x");
        var error = await ThrowsStorageAsync(() => Store.BreakLeaseAsync("a", TimeSpan.Zero, CancellationToken.None));
        Assert.True(error.IsLeaseConflict);
        Assert.Equal(BlobErrorCodes.LeaseNotPresentWithLeaseOperation, error.ErrorCode);
    }

    [Fact]
    public async Task Lease_WhenExpired_AnotherCanAcquireAndOldHolderIsFenced()
    {
        await CreateAppendAsync("log");
        var stale = await AcquireAsync("log", Guid.NewGuid().ToString(), LeaseDuration);

        await ElapseUntilAsync(LeaseDuration + TimeSpan.FromSeconds(1), async () =>
            (await Store.GetPropertiesAsync("log", default, CancellationToken.None)).LeaseState == LeaseState.Expired);

        var successor = await AcquireAsync("log", Guid.NewGuid().ToString());
        var error = await ThrowsStorageAsync(() => AppendAsync("log", "stale", new AppendConditions { LeaseId = stale.LeaseId }));
        Assert.True(error.IsLeaseLost);
        await AppendAsync("log", "ok", new AppendConditions { LeaseId = successor.LeaseId });
        Assert.Equal("ok", await ReadTextAsync("log"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenLeasedWithLeaseId_ReplacesAndKeepsLease()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a");
        await PutAsync("a", "y", BlobConditions.WithLease(lease.LeaseId));
        var properties = await Store.GetPropertiesAsync("a", default, CancellationToken.None);
        Assert.Equal(LeaseState.Leased, properties.LeaseState);
        Assert.Equal("y", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenLeasedWithoutLeaseId_ThrowsLeaseIdMissing()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");
        var error = await ThrowsStorageAsync(() => PutAsync("a", "y"));
        Assert.True(error.IsLeaseLost);
        Assert.Equal("x", await ReadTextAsync("a"));
    }
}
