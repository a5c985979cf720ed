using System.Text;
using System.Text.Json;
using AzKv.Testing.Azurite;
using Microsoft.AspNetCore.Http;

namespace AzKv.Functions.Tests;

/// <summary>
/// The function methods invoked directly with a real HttpContext, as the worker invokes them, in front
/// of an owner node on Azurite. The front end owns no partition, so every key request is forwarded.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FrontEndFunctionsTests : IClassFixture<FrontEndFixture>, IAsyncLifetime
{
    private static readonly TimeSpan StreamDeadline = TimeSpan.FromSeconds(30);

    private readonly AzuriteFixture _azurite;
    private readonly FrontEndFixture _fixture;

    public FrontEndFunctionsTests(AzuriteFixture azurite, FrontEndFixture fixture)
    {
        _azurite = azurite;
        _fixture = fixture;
    }

    public Task InitializeAsync() => _fixture.StartAsync(_azurite);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task PutKey_WhenNewThenReplaced_Returns201Then200AndTheOwnerHoldsTheValue()
    {
        var created = await PutAsync("fn/put/color", "blue");
        var replaced = await PutAsync("fn/put/color", "green");

        Assert.Equal(StatusCodes.Status201Created, created.Response.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, replaced.Response.StatusCode);
        Assert.NotEqual(created.Header("ETag"), replaced.Header("ETag"));
        var body = JsonDocument.Parse(replaced.ReadBody()).RootElement;
        Assert.Equal("fn/put/color", body.GetProperty("key").GetString());
        Assert.Equal(replaced.Header("ETag"), body.GetProperty("etag").GetString());

        // Written through the front end, read from the owner itself.
        using var http = new HttpClient { BaseAddress = _fixture.Owner.Url };
        Assert.Equal("green", await http.GetStringAsync(new Uri("/v1/kv/fn/put/color", UriKind.Relative)));
    }

    [Fact]
    public async Task GetKey_WhenStored_ReturnsValueContentTypeAndETag()
    {
        var put = await PutAsync("fn/get/json", "{\"a\":1}", "application/json");

        var get = FunctionRequest.Create("GET", "/v1/kv/fn/get/json");
        await _fixture.Kv.GetKeyAsync(get.Request);

        Assert.Equal(StatusCodes.Status200OK, get.Response.StatusCode);
        Assert.Equal("{\"a\":1}", get.ReadBody());
        Assert.Equal("application/json", get.Response.ContentType);
        Assert.Equal(put.Header("ETag"), get.Header("ETag"));
    }

    [Fact]
    public async Task PutKey_WhenIfMatchIsStale_Returns412PreconditionFailedProblem()
    {
        var first = await PutAsync("fn/cas/k", "one");
        await PutAsync("fn/cas/k", "two");

        var stale = FunctionRequest.Create("PUT", "/v1/kv/fn/cas/k", Encoding.UTF8.GetBytes("three"), "text/plain", ("If-Match", first.Header("ETag")!));
        await _fixture.Kv.PutKeyAsync(stale.Request);

        AssertProblem(stale, StatusCodes.Status412PreconditionFailed, "precondition-failed");
        var get = FunctionRequest.Create("GET", "/v1/kv/fn/cas/k");
        await _fixture.Kv.GetKeyAsync(get.Request);
        Assert.Equal("two", get.ReadBody());
    }

    [Fact]
    public async Task DeleteKey_WhenStoredThenDeletedAgain_Returns204Then404()
    {
        await PutAsync("fn/delete/k", "v");

        var deleted = FunctionRequest.Create("DELETE", "/v1/kv/fn/delete/k");
        await _fixture.Kv.DeleteKeyAsync(deleted.Request);
        var again = FunctionRequest.Create("DELETE", "/v1/kv/fn/delete/k");
        await _fixture.Kv.DeleteKeyAsync(again.Request);

        Assert.Equal(StatusCodes.Status204NoContent, deleted.Response.StatusCode);
        AssertProblem(again, StatusCodes.Status404NotFound, "not-found");
    }

    [Fact]
    public async Task CreateSnapshot_WhenThePartitionsAreServedByAnOwnerNode_CutsEachAtItsOwnerAndPagesTheItems()
    {
        string[] keys = ["fn/snap/a", "fn/snap/b", "fn/snap/c", "fn/snap/d", "fn/snap/e"];
        foreach (var key in keys)
        {
            await PutAsync(key, "v-" + key);
        }

        var name = "fn-" + Guid.NewGuid().ToString("N")[..8];
        var create = FunctionRequest.Create("POST", "/v1/snapshots", Encoding.UTF8.GetBytes($"{{\"name\": \"{name}\", \"filters\": [{{\"prefix\": \"fn/snap/\"}}]}}"), "application/json");
        await _fixture.Snapshots.CreateAsync(create.Request);
        await PutAsync("fn/snap/a", "changed");
        var first = FunctionRequest.Create("GET", $"/v1/snapshots/{name}/kv?values=true&limit=3");
        await _fixture.Snapshots.ItemsAsync(first.Request);
        var page = JsonDocument.Parse(first.ReadBody()).RootElement;
        var second = FunctionRequest.Create("GET", $"/v1/snapshots/{name}/kv?values=true&limit=3&cursor=" + page.GetProperty("next").GetString());
        await _fixture.Snapshots.ItemsAsync(second.Request);
        var rest = JsonDocument.Parse(second.ReadBody()).RootElement;
        var deleted = FunctionRequest.Create("DELETE", $"/v1/snapshots/{name}");
        await _fixture.Snapshots.DeleteAsync(deleted.Request);

        Assert.True(create.Response.StatusCode == StatusCodes.Status201Created, create.ReadBody());
        var metadata = JsonDocument.Parse(create.ReadBody()).RootElement;
        Assert.Equal(5, metadata.GetProperty("itemCount").GetInt32());
        Assert.Contains(metadata.GetProperty("partitions").EnumerateArray(), p => p.GetProperty("lsn").GetInt64() > 0);
        var items = page.GetProperty("items").EnumerateArray().Concat(rest.GetProperty("items").EnumerateArray()).ToList();
        Assert.Equal(keys, items.Select(i => i.GetProperty("key").GetString()));
        Assert.Equal("v-fn/snap/a", Encoding.UTF8.GetString(items[0].GetProperty("value").GetBytesFromBase64()));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
        Assert.Equal(StatusCodes.Status204NoContent, deleted.Response.StatusCode);
    }

    [Fact]
    public async Task ListKeys_WhenKeysSpanPartitions_ReturnsThemInByteOrderAcrossPages()
    {
        string[] keys = ["fn/list/a", "fn/list/b", "fn/list/c", "fn/list/d", "fn/list/e"];
        foreach (var key in keys.Reverse())
        {
            await PutAsync(key, key);
        }

        var first = FunctionRequest.Create("GET", "/v1/kv?prefix=fn%2Flist%2F&limit=3");
        await _fixture.Kv.ListKeysAsync(first.Request);
        var page = JsonDocument.Parse(first.ReadBody()).RootElement;
        var next = page.GetProperty("next").GetString();
        var second = FunctionRequest.Create("GET", "/v1/kv?prefix=fn%2Flist%2F&limit=3&cursor=" + next);
        await _fixture.Kv.ListKeysAsync(second.Request);
        var rest = JsonDocument.Parse(second.ReadBody()).RootElement;

        Assert.Equal(StatusCodes.Status200OK, first.Response.StatusCode);
        var listed = page.GetProperty("items").EnumerateArray().Concat(rest.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("key").GetString());
        Assert.Equal(keys, listed);
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
    }

    [Theory]
    [InlineData("/console", "text/html; charset=utf-8")]
    [InlineData("/console/flags", "text/html; charset=utf-8")]
    [InlineData("/console/assets/app.js", "text/javascript; charset=utf-8")]
    public async Task Console_WhenAConsolePathIsAsked_ServesTheEmbeddedFileWithTheContentSecurityPolicy(string path, string contentType)
    {
        var call = FunctionRequest.Create("GET", path);

        await _fixture.Console.ConsoleAsync(call.Request);

        Assert.Equal(StatusCodes.Status200OK, call.Response.StatusCode);
        Assert.Equal(contentType, call.Header("Content-Type"));
        Assert.StartsWith("default-src 'none'; script-src 'self';", call.Header("Content-Security-Policy"), StringComparison.Ordinal);
        Assert.NotEmpty(call.ReadBody());
    }

    [Fact]
    public async Task Watch_WhenAKeyChangesAfterTheCursor_ReturnsTheChangeAndTheNextCursor()
    {
        var start = FunctionRequest.Create("GET", "/v1/watch?prefix=fn%2Fwatch%2F&timeout=0");
        await _fixture.Watch.WatchAsync(start.Request);
        Assert.Equal(StatusCodes.Status200OK, start.Response.StatusCode);
        var cursor = JsonDocument.Parse(start.ReadBody()).RootElement.GetProperty("cursor").GetString()!;

        await PutAsync("fn/watch/k", "v1");
        var poll = FunctionRequest.Create("GET", "/v1/watch?prefix=fn%2Fwatch%2F&timeout=20&cursor=" + cursor);
        await _fixture.Watch.WatchAsync(poll.Request);

        Assert.Equal(StatusCodes.Status200OK, poll.Response.StatusCode);
        var answer = JsonDocument.Parse(poll.ReadBody()).RootElement;
        var change = Assert.Single(answer.GetProperty("changes").EnumerateArray());
        Assert.Equal("fn/watch/k", change.GetProperty("key").GetString());
        Assert.Equal("put", change.GetProperty("type").GetString());
        Assert.NotEqual(cursor, answer.GetProperty("cursor").GetString());
    }

    [Fact]
    public async Task Watch_WhenAcceptIsEventStream_StreamsEachChangeAsAnEventUntilTheClientGoesAway()
    {
        var start = FunctionRequest.Create("GET", "/v1/watch?prefix=fn%2Fsse%2F&timeout=0");
        await _fixture.Watch.WatchAsync(start.Request);
        var cursor = JsonDocument.Parse(start.ReadBody()).RootElement.GetProperty("cursor").GetString()!;

        using var client = new CancellationTokenSource();
        var stream = FunctionRequest.Create("GET", "/v1/watch?prefix=fn%2Fsse%2F&cursor=" + cursor, headers: ("Accept", "text/event-stream"));
        stream.Context.RequestAborted = client.Token;
        var running = _fixture.Watch.WatchAsync(stream.Request);
        await PutAsync("fn/sse/one", "1");
        await PutAsync("fn/sse/two", "2");
        var body = await stream.Body.WaitForAsync("fn/sse/two", StreamDeadline);
        await client.CancelAsync();
        await running.WaitAsync(StreamDeadline);

        Assert.Equal("text/event-stream", stream.Response.ContentType);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.All(events, e => Assert.StartsWith("event: change\nid: ", e, StringComparison.Ordinal));
        Assert.Contains("\"key\":\"fn/sse/one\"", events[0], StringComparison.Ordinal);
        Assert.Contains("\"key\":\"fn/sse/two\"", events[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetKey_WhenTheRequestWasAlreadyForwarded_Answers503NotOwnerInsteadOfForwardingAgain()
    {
        await PutAsync("fn/loop/k", "v");

        var looped = FunctionRequest.Create("GET", "/v1/kv/fn/loop/k", headers: ("X-AzKv-Forwarded-By", "some-node"));
        await _fixture.Kv.GetKeyAsync(looped.Request);

        AssertProblem(looped, StatusCodes.Status503ServiceUnavailable, "unavailable");
        Assert.Equal("1", looped.Header("X-AzKv-Not-Owner"));
    }

    [Theory]
    [InlineData("/v1/kv/bad%ZZkey")]
    [InlineData("/v1/kv/control%01char")]
    [InlineData("/v1/kv/%FF%FE")]
    public async Task GetKey_WhenTheKeyIsMalformed_Returns400InvalidKeyProblem(string target)
    {
        var get = FunctionRequest.Create("GET", target);
        await _fixture.Kv.GetKeyAsync(get.Request);

        AssertProblem(get, StatusCodes.Status400BadRequest, "invalid-key");
    }

    [Fact]
    public async Task Cluster_WhenAskedAtTheFrontEnd_ShowsItAsAFrontEndAndTheOwnerOwningEveryPartition()
    {
        var cluster = FunctionRequest.Create("GET", "/v1/cluster");
        await _fixture.Cluster.ClusterAsync(cluster.Request);

        Assert.Equal(StatusCodes.Status200OK, cluster.Response.StatusCode);
        var body = JsonDocument.Parse(cluster.ReadBody()).RootElement;
        Assert.Equal("functions-1", body.GetProperty("nodeId").GetString());
        Assert.All(body.GetProperty("partitions").EnumerateArray(), p => Assert.Equal("owner-1", p.GetProperty("owner").GetString()));
        var frontEnd = Assert.Single(body.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("nodeId").GetString() == "functions-1");
        Assert.Equal(["frontend"], frontEnd.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    private async Task<FunctionRequest> PutAsync(string key, string value, string contentType = "text/plain")
    {
        var put = FunctionRequest.Create("PUT", "/v1/kv/" + key, Encoding.UTF8.GetBytes(value), contentType);
        await _fixture.Kv.PutKeyAsync(put.Request);
        Assert.True(put.Response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status201Created, $"PUT {key}: {put.Response.StatusCode} {put.ReadBody()}");
        return put;
    }

    private static void AssertProblem(FunctionRequest request, int status, string kind)
    {
        Assert.Equal(status, request.Response.StatusCode);
        Assert.Equal("application/problem+json", request.Response.ContentType);
        var problem = JsonDocument.Parse(request.ReadBody()).RootElement;
        Assert.Equal("https://azkv.dev/problems/" + kind, problem.GetProperty("type").GetString());
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
    }
}
