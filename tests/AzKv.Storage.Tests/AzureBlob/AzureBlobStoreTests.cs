using System.Net;
using System.Net.Http;
using Azure.Core.Pipeline;
using AzKv.Storage.AzureBlob;

namespace AzKv.Storage.Tests.AzureBlob;

/// <summary>
/// What the SDK-based store puts on the wire and how it maps what comes back, checked against a
/// fake HTTP handler (the contract suite covers behaviour against Azurite).
/// </summary>
public sealed class AzureBlobStoreTests
{
    private const string ConnectionString = "UseDevelopmentStorage=true";

    [Fact]
    public async Task AppendBlock_WithConditions_SendsLeaseIdAppendPositionIfMatchAndPinnedVersion()
    {
        var handler = new FakeHandler(_ => Created(("x-ms-blob-append-offset", "42"), ("x-ms-blob-committed-block-count", "7")));
        IBlobStore store = Store(handler);
        string leaseId = Guid.NewGuid().ToString();

        AppendResult result = await store.AppendBlockAsync(
            "wal/1.log", new byte[] { 1, 2, 3 }, new AppendConditions { LeaseId = leaseId, AppendPosition = 42, IfMatch = "\"0x1\"" }, CancellationToken.None);

        HttpRequestMessage request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/devstoreaccount1/azkv/wal/1.log", request.RequestUri!.AbsolutePath);
        Assert.Contains("comp=appendblock", request.RequestUri.Query, StringComparison.Ordinal);
        Assert.Equal(leaseId, Header(request, "x-ms-lease-id"));
        Assert.Equal("42", Header(request, "x-ms-blob-condition-appendpos"));
        Assert.Equal("\"0x1\"", Header(request, "If-Match"));
        Assert.Equal("2025-11-05", Header(request, "x-ms-version"));
        Assert.StartsWith("SharedKey devstoreaccount1:", Header(request, "Authorization"), StringComparison.Ordinal);
        Assert.Equal(new AppendResult("\"0xE\"", 42, 7), result);
    }

    [Fact]
    public async Task PutBlockBlob_WhenCreateOnly_SendsIfNoneMatchStar()
    {
        var handler = new FakeHandler(_ => Created());
        IBlobStore store = Store(handler);

        await store.PutBlockBlobAsync("m.json", new byte[] { 1 }, new BlobWriteOptions { Conditions = BlobConditions.IfNotExists }, CancellationToken.None);

        Assert.Equal("*", Header(Assert.Single(handler.Requests), "If-None-Match"));
    }

    [Fact]
    public async Task AppendBlock_WhenServiceRefusesPosition_ThrowsAppendPositionMismatchWithoutRetry()
    {
        var handler = new FakeHandler(_ => Error(HttpStatusCode.PreconditionFailed, "AppendPositionConditionNotMet"));
        IBlobStore store = Store(handler);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            store.AppendBlockAsync("wal/1.log", new byte[] { 1 }, new AppendConditions { AppendPosition = 0 }, CancellationToken.None));

        Assert.Equal(412, error.Status);
        Assert.True(error.IsAppendPositionMismatch);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AppendBlock_WhenServerBusyThenCreated_RetriesInsideTheSdk()
    {
        int calls = 0;
        var handler = new FakeHandler(_ => Interlocked.Increment(ref calls) == 1
            ? Error(HttpStatusCode.ServiceUnavailable, "ServerBusy")
            : Created(("x-ms-blob-append-offset", "0"), ("x-ms-blob-committed-block-count", "1")));
        IBlobStore store = Store(handler, maxRetries: 2);

        AppendResult result = await store.AppendBlockAsync("wal/1.log", new byte[] { 1 }, default, CancellationToken.None);

        Assert.Equal(1, result.CommittedBlockCount);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task AppendBlock_WhenEveryAttemptGetsNoResponse_ThrowsOutcomeUnknownAfterRetries()
    {
        var handler = new FakeHandler(_ => throw new HttpRequestException("connection reset"));
        IBlobStore store = Store(handler, maxRetries: 2);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            store.AppendBlockAsync("wal/1.log", new byte[] { 1 }, default, CancellationToken.None));

        Assert.True(error.IsOutcomeUnknown);
        Assert.Equal(BlobErrorCodes.NoResponse, error.ErrorCode);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task Download_WhenNotModified_ThrowsNotModified()
    {
        var handler = new FakeHandler(_ => Error(HttpStatusCode.NotModified, "ConditionNotMet"));
        IBlobStore store = Store(handler);

        var error = await Assert.ThrowsAsync<BlobStorageException>(() =>
            store.DownloadAsync("m.json", BlobRange.All, new BlobConditions { IfNoneMatch = "\"0x1\"" }, CancellationToken.None));

        Assert.True(error.IsNotModified);
        Assert.Equal("\"0x1\"", Header(Assert.Single(handler.Requests), "If-None-Match"));
    }

    [Fact]
    public async Task AnyOperation_WhenCallerCancels_ThrowsOperationCanceled()
    {
        using var cancel = new CancellationTokenSource();
        var handler = new FakeHandler(_ =>
        {
            cancel.Cancel();
            throw new TaskCanceledException();
        });
        IBlobStore store = Store(handler, maxRetries: 3);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            store.GetPropertiesAsync("m.json", default, cancel.Token));
        Assert.Single(handler.Requests);
    }

    [Fact]
    public void FromConnectionString_WhenMalformed_ThrowsWithoutRepeatingTheString()
    {
        const string Secret = "AccountName=a;AccountKey=c2VjcmV0LWtleQ==;Bogus";
        var error = Assert.Throws<ArgumentException>(() => AzureBlobStores.FromConnectionString(Secret, "azkv"));
        Assert.DoesNotContain("c2VjcmV0LWtleQ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromAccountUrl_WhenHttp_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            AzureBlobStores.FromAccountUrl(new Uri("http://a.blob.core.windows.net"), new Azure.Identity.DefaultAzureCredential(), "azkv"));
    }

    private static IBlobStore Store(FakeHandler handler, int maxRetries = 0) =>
        AzureBlobStores.FromConnectionString(
            ConnectionString,
            "azkv",
            new AzureBlobStoreOptions
            {
                MaxRetries = maxRetries,
                RetryDelay = TimeSpan.FromMilliseconds(1),
                MaxRetryDelay = TimeSpan.FromMilliseconds(1),
                Transport = new HttpClientTransport(new HttpClient(handler)),
            });

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(",", values) : null;

    private static HttpResponseMessage Created(params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(HttpStatusCode.Created) { Content = new ByteArrayContent([]) };
        response.Headers.TryAddWithoutValidation("ETag", "\"0xE\"");
        response.Content.Headers.TryAddWithoutValidation("Last-Modified", "Sat, 05 Dec 2026 12:00:00 GMT");
        foreach ((string name, string value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string code)
    {
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent([]) };
        response.Headers.TryAddWithoutValidation("x-ms-error-code", code);
        return response;
    }

    /// <summary>Answers every request with the given function and records the requests.</summary>
    private sealed class FakeHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }

            return Task.FromResult(respond(request));
        }
    }
}
