using System.Diagnostics;
using System.Text;
using AzKv.Testing;

namespace AzKv.Storage.Tests.InMemory;

public sealed class BlobFaultsTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly BlobFaults _faults = new();
    private readonly InMemoryBlobStore _store;

    public BlobFaultsTests()
    {
        _store = new InMemoryBlobStore("faults", _clock, _faults);
    }

    [Fact]
    public void Constructor_WhenNoFaultsGiven_StoreHasItsOwnEmptyFaults()
    {
        var store = new InMemoryBlobStore();

        Assert.NotNull(store.Faults);
        Assert.NotSame(_faults, store.Faults);
        Assert.Same(_faults, _store.Faults);
    }

    [Fact]
    public async Task FailNext_WhenCountIsTwo_FailsTwoMatchingRequestsWithServerBusyThenLetsThrough()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 2);

        var first = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));
        var second = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));
        await PutAsync("a", "ok");

        Assert.Equal(503, first.Status);
        Assert.Equal(BlobErrorCodes.ServerBusy, first.ErrorCode);
        Assert.True(first.IsThrottled);
        Assert.True(first.IsTransient);
        Assert.Equal(503, second.Status);
        Assert.Equal("ok", await ReadAsync("a"));
    }

    [Fact]
    public async Task FailNext_WhenFailed_OperationDidNotHappen()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 1);

        await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => ReadAsync("a"));
        Assert.Equal(BlobErrorCodes.BlobNotFound, error.ErrorCode);
    }

    [Fact]
    public async Task FailNext_WithInternalError_Throws500InternalError()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.GetProperties, 1, failure: BlobFaultAction.InternalError);
        await PutAsync("a", "x");

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.GetPropertiesAsync("a", default, CancellationToken.None));

        Assert.Equal(500, error.Status);
        Assert.Equal(BlobErrorCodes.InternalError, error.ErrorCode);
        Assert.True(error.IsTransient);
        Assert.False(error.IsThrottled);
    }

    [Fact]
    public async Task FailNext_WithLoseRequest_ThrowsNoResponseAndDoesNothing()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 1, failure: BlobFaultAction.LoseRequest);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));

        Assert.Equal(0, error.Status);
        Assert.Equal(BlobErrorCodes.NoResponse, error.ErrorCode);
        Assert.True(error.IsOutcomeUnknown);
        var page = await _store.ListAsync(string.Empty, null, null, CancellationToken.None);
        Assert.Empty(page.Items);
    }

    [Fact]
    public void FailNext_WithLoseResponseAsFailure_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => _faults.FailNext(BlobOperation.Seal, 1, failure: BlobFaultAction.LoseResponse));
        Assert.Throws<ArgumentOutOfRangeException>(() => _faults.FailNext(BlobOperation.Seal, 0));
    }

    [Fact]
    public async Task FailNext_WithPrefix_FailsOnlyBlobsUnderThePrefix()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 5, "partitions/0001/");

        await PutAsync("partitions/0002/manifest.json", "ok");
        await PutAsync("members/n1.json", "ok");
        var error = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("partitions/0001/manifest.json", "x"));

        Assert.True(error.IsThrottled);
        Assert.Equal("ok", await ReadAsync("partitions/0002/manifest.json"));
    }

    [Fact]
    public async Task FailNext_ForOneOperation_LeavesOtherOperationsAlone()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.AppendBlock, 1);

        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        await _store.SealAsync("log", default, CancellationToken.None);

        Assert.True((await _store.GetPropertiesAsync("log", default, CancellationToken.None)).IsSealed);
    }

    [Fact]
    public async Task FailNext_WithPrefix_NeverMatchesCreateContainer()
    {
        _faults.FailNext(BlobOperation.CreateContainer, 1, "a");

        Assert.True(await _store.CreateContainerIfNotExistsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task FailNext_OnCreateContainerWithoutPrefix_FailsIt()
    {
        _faults.FailNext(BlobOperation.CreateContainer, 1);

        await Assert.ThrowsAsync<BlobStorageException>(() => _store.CreateContainerIfNotExistsAsync(CancellationToken.None));

        Assert.True(await _store.CreateContainerIfNotExistsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task FailNext_OnList_MatchesTheListPrefix()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.List, 1, "members/");

        await _store.ListAsync("partitions/", null, null, CancellationToken.None);
        var error = await Assert.ThrowsAsync<BlobStorageException>(() => _store.ListAsync("members/", null, null, CancellationToken.None));

        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task LoseNextResponses_WhenAppend_AppendHappensButCallerGetsNoResponse()
    {
        await CreateContainerAsync();
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        _faults.LoseNextResponses(BlobOperation.AppendBlock, 1);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AppendBlockAsync("log", Bytes("abc"), new AppendConditions { AppendPosition = 0 }, CancellationToken.None));

        Assert.Equal(0, error.Status);
        Assert.Equal(BlobErrorCodes.NoResponse, error.ErrorCode);
        Assert.True(error.IsOutcomeUnknown);
        Assert.True(error.IsTransient);
        Assert.Null(error.InnerException);
        Assert.Equal("abc", await ReadAsync("log"));

        // The retry with the same append position now finds the position taken.
        var retry = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AppendBlockAsync("log", Bytes("abc"), new AppendConditions { AppendPosition = 0 }, CancellationToken.None));
        Assert.True(retry.IsAppendPositionMismatch);
    }

    [Fact]
    public async Task LoseNextResponses_WhenOperationFailsOnItsOwn_CallerStillGetsNoResponse()
    {
        await CreateContainerAsync();
        await _store.CreateAppendBlobAsync("log", default, CancellationToken.None);
        await _store.AppendBlockAsync("log", Bytes("a"), default, CancellationToken.None);
        _faults.LoseNextResponses(BlobOperation.AppendBlock, 1);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AppendBlockAsync("log", Bytes("b"), new AppendConditions { AppendPosition = 0 }, CancellationToken.None));

        Assert.Equal(BlobErrorCodes.NoResponse, error.ErrorCode);
        Assert.Equal("a", await ReadAsync("log"));
    }

    [Fact]
    public async Task LoseNextResponses_WhenAcquireLease_LeaseIsHeldByTheLostRequest()
    {
        await CreateContainerAsync();
        await PutAsync("a", "x");
        _faults.LoseNextResponses(BlobOperation.AcquireLease, 1);
        var leaseId = Guid.NewGuid().ToString();

        await Assert.ThrowsAsync<BlobStorageException>(() =>
            _store.AcquireLeaseAsync("a", TimeSpan.FromSeconds(15), leaseId, default, CancellationToken.None));

        // Retrying with the same proposed id is how a caller recovers: it renews its own lease.
        var retried = await _store.AcquireLeaseAsync("a", TimeSpan.FromSeconds(15), leaseId, default, CancellationToken.None);
        Assert.Equal(leaseId, retried.LeaseId);
    }

    [Fact]
    public async Task Callback_WhenThirdAppendOnOneBlob_FailsExactlyThatRequest()
    {
        await CreateContainerAsync();
        await _store.CreateAppendBlobAsync("log/x", default, CancellationToken.None);
        await _store.CreateAppendBlobAsync("log/y", default, CancellationToken.None);
        var seen = new List<BlobFaultContext>();
        _faults.Callback = context =>
        {
            seen.Add(context);
            return context is { Operation: BlobOperation.AppendBlock, BlobName: "log/x", CallNumber: 3 }
                ? BlobFaultAction.InternalError
                : BlobFaultAction.None;
        };

        var outcomes = new List<string>();
        foreach (var (blob, text) in new[] { ("log/x", "1"), ("log/y", "a"), ("log/x", "2"), ("log/x", "3"), ("log/x", "4") })
        {
            try
            {
                await _store.AppendBlockAsync(blob, Bytes(text), default, CancellationToken.None);
                outcomes.Add("ok");
            }
            catch (BlobStorageException ex)
            {
                outcomes.Add(ex.ErrorCode!);
            }
        }

        Assert.Equal(["ok", "ok", "ok", BlobErrorCodes.InternalError, "ok"], outcomes);
        Assert.Equal("124", await ReadAsync("log/x"));
        Assert.Contains(new BlobFaultContext(BlobOperation.AppendBlock, "log/y", 1), seen);
    }

    [Fact]
    public async Task Callback_WhenItThrows_ExceptionReachesCallerAndNothingHappens()
    {
        await CreateContainerAsync();
        _faults.Callback = context => context.Operation == BlobOperation.PutBlockBlob
            ? throw new SimulatedCrashException()
            : BlobFaultAction.None;

        await Assert.ThrowsAsync<SimulatedCrashException>(() => PutAsync("a", "x"));

        _faults.Callback = null;
        await Assert.ThrowsAsync<BlobStorageException>(() => ReadAsync("a"));
    }

    [Fact]
    public async Task Callback_WhenItFails_CountedRulesAreNotUsedUp()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 1, failure: BlobFaultAction.InternalError);
        _faults.Callback = context => context.CallNumber == 1 ? BlobFaultAction.LoseRequest : BlobFaultAction.None;

        var first = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));
        var second = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));
        await PutAsync("a", "x");

        Assert.Equal(BlobErrorCodes.NoResponse, first.ErrorCode);
        Assert.Equal(BlobErrorCodes.InternalError, second.ErrorCode);
    }

    [Fact]
    public async Task Callback_WithCustomFailure_ThrowsThatStatusAndCode()
    {
        await CreateContainerAsync();
        _faults.Callback = _ => BlobFaultAction.Fail(408, BlobErrorCodes.OperationTimedOut);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));

        Assert.Equal(408, error.Status);
        Assert.Equal(BlobErrorCodes.OperationTimedOut, error.ErrorCode);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task AddLatency_OnStoreClock_RequestCompletesOnlyAfterClockAdvancesAndSeesTheLaterTime()
    {
        await CreateContainerAsync();
        _faults.AddLatency(BlobOperation.PutBlockBlob, TimeSpan.FromSeconds(2));

        var put = PutAsync("a", "x");
        Assert.False(put.IsCompleted);
        Assert.Equal(1, _clock.ActiveTimerCount);
        _clock.Advance(TimeSpan.FromSeconds(2));
        var written = await put.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ManualTimeProvider.DefaultStartTime.AddSeconds(2), written.LastModified);
    }

    [Fact]
    public async Task AddLatency_WhenSeveralRulesMatch_AddsThemUp()
    {
        await CreateContainerAsync();
        _faults.AddLatency(BlobOperation.PutBlockBlob, TimeSpan.FromSeconds(2));
        _faults.AddLatency(BlobOperation.PutBlockBlob, TimeSpan.FromSeconds(3), "a");
        _faults.AddLatency(BlobOperation.PutBlockBlob, TimeSpan.FromSeconds(100), "b");

        var put = PutAsync("a", "x");
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(put.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));

        var written = await put.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ManualTimeProvider.DefaultStartTime.AddSeconds(5), written.LastModified);
    }

    [Fact]
    public async Task AddLatency_WhenCancelledDuringDelay_ThrowsAndRequestNeverHappens()
    {
        await CreateContainerAsync();
        _faults.AddLatency(BlobOperation.PutBlockBlob, TimeSpan.FromSeconds(2));
        using var cancellation = new CancellationTokenSource();

        var put = _store.PutBlockBlobAsync("a", Bytes("x"), default, cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put);
        _clock.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<BlobStorageException>(() => ReadAsync("a"));
    }

    [Fact]
    public async Task AddLatency_InRealTime_DelaysWithoutTheManualClock()
    {
        await CreateContainerAsync();
        var delay = TimeSpan.FromMilliseconds(100);
        _faults.AddLatency(BlobOperation.GetProperties, delay, realTime: true);
        await PutAsync("a", "x");
        var stopwatch = Stopwatch.StartNew();

        await _store.GetPropertiesAsync("a", default, CancellationToken.None);

        Assert.True(stopwatch.Elapsed >= delay * 0.9, $"Took {stopwatch.Elapsed}.");
        Assert.Equal(ManualTimeProvider.DefaultStartTime, _clock.GetUtcNow());
    }

    [Fact]
    public async Task Delayed_FromCallback_UsesTheStoreClock()
    {
        await CreateContainerAsync();
        _faults.Callback = context => context.Operation == BlobOperation.PutBlockBlob
            ? BlobFaultAction.ServerBusy.WithDelay(TimeSpan.FromSeconds(1))
            : BlobFaultAction.None;

        var put = PutAsync("a", "x");
        Assert.False(put.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<BlobStorageException>(() => put.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(error.IsThrottled);
    }

    [Fact]
    public async Task GetCallCount_AfterRequests_CountsEveryRequestIncludingFailedOnes()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 1);

        await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "x"));
        await PutAsync("a", "x");
        await PutAsync("b", "x");

        Assert.Equal(2, _faults.GetCallCount(BlobOperation.PutBlockBlob, "a"));
        Assert.Equal(1, _faults.GetCallCount(BlobOperation.PutBlockBlob, "b"));
        Assert.Equal(3, _faults.GetCallCount(BlobOperation.PutBlockBlob));
        Assert.Equal(1, _faults.GetCallCount(BlobOperation.CreateContainer, null));
        Assert.Equal(0, _faults.GetCallCount(BlobOperation.Delete));
    }

    [Fact]
    public async Task Clear_WhenRulesAndCallbackSet_RemovesThemButKeepsCounts()
    {
        await CreateContainerAsync();
        _faults.FailNext(BlobOperation.PutBlockBlob, 10);
        _faults.LoseNextResponses(BlobOperation.PutBlockBlob, 10);
        _faults.AddLatency(BlobOperation.PutBlockBlob, TimeSpan.FromHours(1));
        _faults.Callback = _ => BlobFaultAction.InternalError;

        _faults.Clear();
        await PutAsync("a", "x");

        Assert.Null(_faults.Callback);
        Assert.Equal("x", await ReadAsync("a"));
        Assert.Equal(1, _faults.GetCallCount(BlobOperation.PutBlockBlob, "a"));
    }

    [Fact]
    public async Task FailNext_WhenFailAndLoseRulesBothMatch_FirstAddedIsUsedFirst()
    {
        await CreateContainerAsync();
        _faults.LoseNextResponses(BlobOperation.PutBlockBlob, 1);
        _faults.FailNext(BlobOperation.PutBlockBlob, 1);

        var first = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "lost"));
        var second = await Assert.ThrowsAsync<BlobStorageException>(() => PutAsync("a", "failed"));

        Assert.Equal(BlobErrorCodes.NoResponse, first.ErrorCode);
        Assert.Equal(BlobErrorCodes.ServerBusy, second.ErrorCode);
        Assert.Equal("lost", await ReadAsync("a"));
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private Task CreateContainerAsync() => _store.CreateContainerIfNotExistsAsync(CancellationToken.None);

    private Task<BlobWriteResult> PutAsync(string name, string content) =>
        _store.PutBlockBlobAsync(name, Bytes(content), default, CancellationToken.None);

    private async Task<string> ReadAsync(string name) =>
        Encoding.UTF8.GetString((await _store.DownloadAsync(name, BlobRange.All, default, CancellationToken.None)).Content.Span);

    private sealed class SimulatedCrashException : Exception
    {
    }
}
