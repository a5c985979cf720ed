using System.Text;
using AzKv.Storage;

namespace AzKv.Storage.Tests.Contract;

/// <summary>
/// The behaviour every <see cref="IBlobStore"/> must have, run against each implementation
/// (the in-memory store and the Azure Blob client on Azurite) so the fake cannot drift from
/// the real thing. Each test gets a fresh, created container.
/// </summary>
public abstract partial class BlobStoreContractTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);

    private IBlobStore? _store;

    /// <summary>The store under test, with its container created.</summary>
    protected IBlobStore Store => _store ?? throw new InvalidOperationException("InitializeAsync has not run.");

    /// <summary>Creates a store over a new container name that nothing else uses.</summary>
    protected abstract IBlobStore CreateStore(string containerName);

    /// <summary>
    /// Lets <paramref name="duration"/> of store time pass, then waits until
    /// <paramref name="condition"/> holds (the in-memory store advances its clock; a real store
    /// polls the condition with a deadline).
    /// </summary>
    protected abstract Task ElapseUntilAsync(TimeSpan duration, Func<Task<bool>> condition);

    public async Task InitializeAsync()
    {
        _store = CreateStore(NewContainerName());
        Assert.True(await Store.CreateContainerIfNotExistsAsync(CancellationToken.None));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    protected static string NewContainerName() => "c" + Guid.NewGuid().ToString("N")[..20];

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    private Task<BlobWriteResult> PutAsync(string name, string content, BlobConditions conditions = default, string? contentType = null) =>
        Store.PutBlockBlobAsync(name, Bytes(content), new BlobWriteOptions { Conditions = conditions, ContentType = contentType }, CancellationToken.None);

    private Task<BlobWriteResult> CreateAppendAsync(string name, BlobConditions conditions = default) =>
        Store.CreateAppendBlobAsync(name, new BlobWriteOptions { Conditions = conditions }, CancellationToken.None);

    private Task<AppendResult> AppendAsync(string name, string content, AppendConditions conditions = default) =>
        Store.AppendBlockAsync(name, Bytes(content), conditions, CancellationToken.None);

    private async Task<string> ReadTextAsync(string name) =>
        Text((await Store.DownloadAsync(name, BlobRange.All, default, CancellationToken.None)).Content);

    private Task<LeaseResult> AcquireAsync(string name, string? proposedId = null, TimeSpan? duration = null) =>
        Store.AcquireLeaseAsync(name, duration ?? LeaseDuration, proposedId, default, CancellationToken.None);

    private static async Task<BlobStorageException> ThrowsStorageAsync(Func<Task> action)
    {
        return await Assert.ThrowsAsync<BlobStorageException>(action);
    }

    // ---------------------------------------------------------------- containers

    [Fact]
    public async Task CreateContainerIfNotExists_WhenContainerExists_ReturnsFalse()
    {
        Assert.False(await Store.CreateContainerIfNotExistsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task PutBlockBlob_WhenContainerMissing_ThrowsContainerNotFound()
    {
        var missing = CreateStore(NewContainerName());
        var error = await ThrowsStorageAsync(() =>
            missing.PutBlockBlobAsync("a", Bytes("x"), default, CancellationToken.None));
        Assert.True(error.IsNotFound);
        Assert.True(error.IsContainerNotFound);
        Assert.Equal(BlobErrorCodes.ContainerNotFound, error.ErrorCode);
    }

    [Fact]
    public async Task ContainerName_WhenCreated_IsTheNameGiven()
    {
        var name = NewContainerName();
        var store = CreateStore(name);
        Assert.Equal(name, store.ContainerName);
        Assert.True(await store.CreateContainerIfNotExistsAsync(CancellationToken.None));
    }

    // ---------------------------------------------------------------- block blobs

    [Fact]
    public async Task PutBlockBlob_WhenNew_DownloadReturnsContentAndContentType()
    {
        var written = await PutAsync("dir/a.json", "{\"x\":1}", contentType: "application/json");

        var download = await Store.DownloadAsync("dir/a.json", BlobRange.All, default, CancellationToken.None);

        Assert.Equal("{\"x\":1}", Text(download.Content));
        Assert.Equal("application/json", download.Properties.ContentType);
        Assert.Equal(written.ETag, download.Properties.ETag);
        Assert.Equal(7, download.Properties.ContentLength);
        Assert.Equal(BlobKind.Block, download.Properties.Kind);
        Assert.Equal(0, download.Offset);
    }

    [Fact]
    public async Task PutBlockBlob_WhenNoContentType_StoresOctetStream()
    {
        await PutAsync("a", "x");
        var properties = await Store.GetPropertiesAsync("a", default, CancellationToken.None);
        Assert.Equal("application/octet-stream", properties.ContentType);
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfNoneMatchStarAndMissing_Creates()
    {
        await PutAsync("a", "one", BlobConditions.IfNotExists);
        Assert.Equal("one", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfNoneMatchStarAndExists_ThrowsAlreadyExistsAndKeepsContent()
    {
        await PutAsync("a", "one");
        var error = await ThrowsStorageAsync(() => PutAsync("a", "two", BlobConditions.IfNotExists));
        Assert.True(error.IsAlreadyExists);
        Assert.True(error.IsPreconditionFailed);
        Assert.Equal(409, error.Status);
        Assert.Equal(BlobErrorCodes.BlobAlreadyExists, error.ErrorCode);
        Assert.Equal("one", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfMatchCurrentETag_ReplacesAndChangesETag()
    {
        var first = await PutAsync("a", "one");
        var second = await PutAsync("a", "two", BlobConditions.IfMatchETag(first.ETag));
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal("two", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfMatchStaleETag_ThrowsConditionNotMetAndKeepsContent()
    {
        var first = await PutAsync("a", "one");
        await PutAsync("a", "two");
        var error = await ThrowsStorageAsync(() => PutAsync("a", "three", BlobConditions.IfMatchETag(first.ETag)));
        Assert.True(error.IsConditionNotMet);
        Assert.True(error.IsPreconditionFailed);
        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.ConditionNotMet, error.ErrorCode);
        Assert.Equal("two", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task PutBlockBlob_WhenIfMatchAndBlobMissing_ThrowsConditionNotMet()
    {
        var other = await PutAsync("other", "x");
        var error = await ThrowsStorageAsync(() => PutAsync("a", "one", BlobConditions.IfMatchETag(other.ETag)));
        Assert.True(error.IsConditionNotMet);
        Assert.False(error.IsNotFound);
    }

    [Fact]
    public async Task PutBlockBlob_WhenETagsOfDifferentBlobs_AreDistinct()
    {
        var a = await PutAsync("a", "same");
        var b = await PutAsync("b", "same");
        Assert.NotEqual(a.ETag, b.ETag);
    }

    [Fact]
    public async Task PutBlockBlob_WithMetadata_GetPropertiesReturnsItCaseInsensitively()
    {
        var metadata = new Dictionary<string, string> { ["epoch"] = "7", ["owner"] = "node1" };
        await Store.PutBlockBlobAsync("a", Bytes("x"), new BlobWriteOptions { Metadata = metadata }, CancellationToken.None);

        var properties = await Store.GetPropertiesAsync("a", default, CancellationToken.None);

        Assert.Equal("7", properties.Metadata["epoch"]);
        Assert.Equal("node1", properties.Metadata["OWNER"]);
        Assert.Equal(2, properties.Metadata.Count);
    }

    [Fact]
    public async Task PutBlockBlob_WhenReplacing_ReplacesMetadataToo()
    {
        var metadata = new Dictionary<string, string> { ["a"] = "1" };
        await Store.PutBlockBlobAsync("a", Bytes("x"), new BlobWriteOptions { Metadata = metadata }, CancellationToken.None);
        await PutAsync("a", "y");
        var properties = await Store.GetPropertiesAsync("a", default, CancellationToken.None);
        Assert.Empty(properties.Metadata);
    }

    [Fact]
    public async Task PutBlockBlob_WhenEmptyContent_DownloadReturnsEmpty()
    {
        await PutAsync("empty", "");
        var download = await Store.DownloadAsync("empty", BlobRange.All, default, CancellationToken.None);
        Assert.Equal(0, download.Content.Length);
        Assert.Equal(0, download.Properties.ContentLength);
    }

    [Fact]
    public async Task PutBlockBlob_WhenLargeContent_RoundTripsEveryByte()
    {
        var content = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(content);
        await Store.PutBlockBlobAsync("big", content, default, CancellationToken.None);
        var download = await Store.DownloadAsync("big", BlobRange.All, default, CancellationToken.None);
        Assert.True(content.AsSpan().SequenceEqual(download.Content.Span));
    }

    // ---------------------------------------------------------------- reads

    [Fact]
    public async Task Download_WhenMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() => Store.DownloadAsync("missing", BlobRange.All, default, CancellationToken.None));
        Assert.True(error.IsNotFound);
        Assert.Equal(BlobErrorCodes.BlobNotFound, error.ErrorCode);
        Assert.False(error.IsContainerNotFound);
    }

    [Fact]
    public async Task Download_WithRange_ReturnsSliceOffsetAndWholeLength()
    {
        await PutAsync("a", "0123456789");
        var download = await Store.DownloadAsync("a", new BlobRange(2, 5), default, CancellationToken.None);
        Assert.Equal("23456", Text(download.Content));
        Assert.Equal(2, download.Offset);
        Assert.Equal(10, download.Properties.ContentLength);
    }

    [Fact]
    public async Task Download_WithOpenEndedRange_ReturnsToTheEnd()
    {
        await PutAsync("a", "0123456789");
        var download = await Store.DownloadAsync("a", new BlobRange(7, null), default, CancellationToken.None);
        Assert.Equal("789", Text(download.Content));
    }

    [Fact]
    public async Task Download_WhenRangeRunsPastEnd_IsCutAtEnd()
    {
        await PutAsync("a", "0123456789");
        var download = await Store.DownloadAsync("a", new BlobRange(8, 100), default, CancellationToken.None);
        Assert.Equal("89", Text(download.Content));
        Assert.Equal(10, download.Properties.ContentLength);
    }

    [Fact]
    public async Task Download_WhenRangeStartsAtEnd_ThrowsInvalidRange()
    {
        await PutAsync("a", "0123456789");
        var error = await ThrowsStorageAsync(() => Store.DownloadAsync("a", new BlobRange(10, null), default, CancellationToken.None));
        Assert.True(error.IsInvalidRange);
        Assert.Equal(416, error.Status);
    }

    [Fact]
    public async Task Download_WhenIfNoneMatchCurrentETag_ThrowsNotModified()
    {
        var written = await PutAsync("a", "x");
        var error = await ThrowsStorageAsync(() =>
            Store.DownloadAsync("a", BlobRange.All, new BlobConditions { IfNoneMatch = written.ETag }, CancellationToken.None));
        Assert.True(error.IsNotModified);
        Assert.Equal(304, error.Status);
    }

    [Fact]
    public async Task Download_WhenIfNoneMatchOldETag_ReturnsContent()
    {
        var old = await PutAsync("a", "x");
        await PutAsync("a", "y");
        var download = await Store.DownloadAsync("a", BlobRange.All, new BlobConditions { IfNoneMatch = old.ETag }, CancellationToken.None);
        Assert.Equal("y", Text(download.Content));
    }

    [Fact]
    public async Task Download_WhenIfMatchStale_ThrowsConditionNotMet()
    {
        var old = await PutAsync("a", "x");
        await PutAsync("a", "y");
        var error = await ThrowsStorageAsync(() =>
            Store.DownloadAsync("a", BlobRange.All, BlobConditions.IfMatchETag(old.ETag), CancellationToken.None));
        Assert.True(error.IsConditionNotMet);
        Assert.Equal(412, error.Status);
    }

    [Fact]
    public async Task Download_WhenContentReturned_IsACopyUnaffectedByLaterWrites()
    {
        await CreateAppendAsync("log");
        await AppendAsync("log", "abc");
        var first = await Store.DownloadAsync("log", BlobRange.All, default, CancellationToken.None);
        await AppendAsync("log", "def");
        await PutAsync("log2", "zzz");
        Assert.Equal("abc", Text(first.Content));
    }

    [Fact]
    public async Task GetProperties_WhenMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() => Store.GetPropertiesAsync("missing", default, CancellationToken.None));
        Assert.True(error.IsNotFound);
        Assert.Equal(404, error.Status);
    }

    [Fact]
    public async Task GetProperties_WhenBlockBlob_ReportsLengthKindAndUnleased()
    {
        var written = await PutAsync("a", "hello", contentType: "text/plain");
        var properties = await Store.GetPropertiesAsync("a", default, CancellationToken.None);
        Assert.Equal("a", properties.Name);
        Assert.Equal(5, properties.ContentLength);
        Assert.Equal(BlobKind.Block, properties.Kind);
        Assert.Equal("text/plain", properties.ContentType);
        Assert.Equal(written.ETag, properties.ETag);
        Assert.Equal(LeaseState.Available, properties.LeaseState);
        Assert.False(properties.IsSealed);
    }

    // ---------------------------------------------------------------- metadata

    [Fact]
    public async Task SetMetadata_WhenExists_ReplacesMetadataAndChangesETag()
    {
        var written = await Store.PutBlockBlobAsync(
            "a", Bytes("x"), new BlobWriteOptions { Metadata = new Dictionary<string, string> { ["old"] = "1" } }, CancellationToken.None);

        var updated = await Store.SetMetadataAsync("a", new Dictionary<string, string> { ["beat"] = "42" }, default, CancellationToken.None);

        Assert.NotEqual(written.ETag, updated.ETag);
        var properties = await Store.GetPropertiesAsync("a", default, CancellationToken.None);
        Assert.Equal("42", properties.Metadata["beat"]);
        Assert.False(properties.Metadata.ContainsKey("old"));
        Assert.Equal("x", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task SetMetadata_WhenIfMatchStale_ThrowsConditionNotMet()
    {
        var old = await PutAsync("a", "x");
        await PutAsync("a", "y");
        var error = await ThrowsStorageAsync(() =>
            Store.SetMetadataAsync("a", new Dictionary<string, string> { ["k"] = "v" }, BlobConditions.IfMatchETag(old.ETag), CancellationToken.None));
        Assert.True(error.IsConditionNotMet);
    }

    [Fact]
    public async Task SetMetadata_WhenMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() =>
            Store.SetMetadataAsync("missing", new Dictionary<string, string> { ["k"] = "v" }, default, CancellationToken.None));
        Assert.True(error.IsNotFound);
    }

    // ---------------------------------------------------------------- delete

    [Fact]
    public async Task Delete_WhenExists_RemovesBlob()
    {
        await PutAsync("a", "x");
        await Store.DeleteAsync("a", default, CancellationToken.None);
        var error = await ThrowsStorageAsync(() => Store.GetPropertiesAsync("a", default, CancellationToken.None));
        Assert.True(error.IsNotFound);
    }

    [Fact]
    public async Task Delete_WhenMissing_ThrowsNotFound()
    {
        var error = await ThrowsStorageAsync(() => Store.DeleteAsync("missing", default, CancellationToken.None));
        Assert.True(error.IsNotFound);
        Assert.Equal(BlobErrorCodes.BlobNotFound, error.ErrorCode);
    }

    [Fact]
    public async Task Delete_WhenIfMatchStale_ThrowsConditionNotMetAndKeepsBlob()
    {
        var old = await PutAsync("a", "x");
        await PutAsync("a", "y");
        var error = await ThrowsStorageAsync(() => Store.DeleteAsync("a", BlobConditions.IfMatchETag(old.ETag), CancellationToken.None));
        Assert.True(error.IsConditionNotMet);
        Assert.Equal("y", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task Delete_WhenIfMatchCurrent_Deletes()
    {
        var current = await PutAsync("a", "x");
        await Store.DeleteAsync("a", BlobConditions.IfMatchETag(current.ETag), CancellationToken.None);
        var page = await Store.ListAsync("a", null, null, CancellationToken.None);
        Assert.Empty(page.Items);
    }

    [Fact]
    public async Task Delete_WhenLeasedAndNoLeaseId_ThrowsLeaseIdMissingAndKeepsBlob()
    {
        await PutAsync("a", "x");
        await AcquireAsync("a");
        var error = await ThrowsStorageAsync(() => Store.DeleteAsync("a", default, CancellationToken.None));
        Assert.True(error.IsLeaseLost);
        Assert.Equal(412, error.Status);
        Assert.Equal(BlobErrorCodes.LeaseIdMissing, error.ErrorCode);
        Assert.Equal("x", await ReadTextAsync("a"));
    }

    [Fact]
    public async Task Delete_WhenLeasedWithLeaseId_Deletes()
    {
        await PutAsync("a", "x");
        var lease = await AcquireAsync("a");
        await Store.DeleteAsync("a", BlobConditions.WithLease(lease.LeaseId), CancellationToken.None);
        var error = await ThrowsStorageAsync(() => Store.GetPropertiesAsync("a", default, CancellationToken.None));
        Assert.True(error.IsNotFound);
    }

    // ---------------------------------------------------------------- list

    [Fact]
    public async Task List_WithPrefix_ReturnsOnlyMatchingBlobsInNameOrder()
    {
        foreach (var name in new[] { "p/0002/b", "p/0001/a", "q/x", "p/0001/c", "p0" })
        {
            await PutAsync(name, name);
        }

        var page = await Store.ListAsync("p/", null, null, CancellationToken.None);

        Assert.Equal(["p/0001/a", "p/0001/c", "p/0002/b"], page.Items.Select(i => i.Name).ToArray());
        Assert.Null(page.ContinuationToken);
        Assert.All(page.Items, item => Assert.Equal(item.Name.Length, item.ContentLength));
    }

    [Fact]
    public async Task List_WithPageSize_PagesThroughEveryBlobOnce()
    {
        var names = Enumerable.Range(0, 7).Select(i => $"k/{i:D2}").ToArray();
        foreach (var name in names)
        {
            await PutAsync(name, "v");
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Store.ListAsync("k/", token, 3, CancellationToken.None);
            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items.Select(i => i.Name));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(names, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task List_WhenNothingMatches_ReturnsEmptyPageWithoutToken()
    {
        await PutAsync("a", "x");
        var page = await Store.ListAsync("zzz", null, null, CancellationToken.None);
        Assert.Empty(page.Items);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task List_WhenAppendBlobsSealedAndLeased_ReportsKindSealedAndLeaseState()
    {
        await CreateAppendAsync("w/1");
        await Store.SealAsync("w/1", default, CancellationToken.None);
        await CreateAppendAsync("w/2");
        await AcquireAsync("w/2");
        await PutAsync("w/3", "x");

        var items = (await Store.ListAsync("w/", null, null, CancellationToken.None)).Items;

        Assert.Equal(BlobKind.Append, items[0].Kind);
        Assert.True(items[0].IsSealed);
        Assert.Equal(BlobKind.Append, items[1].Kind);
        Assert.False(items[1].IsSealed);
        Assert.Equal(LeaseState.Leased, items[1].LeaseState);
        Assert.Equal(BlobKind.Block, items[2].Kind);
        Assert.Equal(LeaseState.Available, items[2].LeaseState);
    }
}
