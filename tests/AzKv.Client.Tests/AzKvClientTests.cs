using System.Text;
using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>Reads, writes, conditions and errors of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    /// <summary>The node of this class accepts values up to this size, so the limit is cheap to test.</summary>
    private const int MaxValueBytes = 4096;

    public AzKvClientTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture, [$"--AzKv:Limits:MaxValueBytes={MaxValueBytes}"])
    {
    }

    [Fact]
    public async Task GetAsync_WhenKeyWasPut_ReturnsValueETagAndContentType()
    {
        var value = new byte[] { 0, 1, 2, 250, 255 };
        var put = await Client.PutAsync("get/binary", value, "application/x-test");

        var entry = await Client.GetAsync("get/binary");

        Assert.NotNull(entry);
        Assert.Equal("get/binary", entry.Key);
        Assert.Equal(value, entry.Value.ToArray());
        Assert.Equal(put.ETag, entry.ETag);
        Assert.StartsWith("\"", entry.ETag, StringComparison.Ordinal);
        Assert.Equal("application/x-test", entry.ContentType);
        Assert.False(entry.HasSiblings);
    }

    [Fact]
    public async Task GetAsync_WhenKeyIsAbsent_ReturnsNull()
    {
        Assert.Null(await Client.GetAsync("get/absent"));
        Assert.Null(await Client.GetStringAsync("get/absent"));
    }

    [Fact]
    public async Task PutAsync_WhenContentTypeIsOmitted_StoresOctetStream()
    {
        await Client.PutAsync("put/default-type", new byte[] { 42 });

        var entry = await Client.GetAsync("put/default-type");

        Assert.Equal("application/octet-stream", entry?.ContentType);
    }

    [Fact]
    public async Task PutAsync_WhenKeyIsNew_ReportsCreatedThenReplacedWithANewETag()
    {
        var first = await Client.PutStringAsync("put/created", "one");
        var second = await Client.PutStringAsync("put/created", "two");

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal("two", await Client.GetStringAsync("put/created"));
    }

    [Fact]
    public async Task PutAsync_WhenIfMatchIsTheCurrentETag_Replaces()
    {
        var first = await Client.PutStringAsync("cas/current", "v1");

        var second = await Client.PutStringAsync("cas/current", "v2", KvCondition.IfMatch(first.ETag));

        Assert.False(second.Created);
        Assert.Equal("v2", await Client.GetStringAsync("cas/current"));
    }

    [Fact]
    public async Task PutAsync_WhenIfMatchIsStale_ThrowsPreconditionFailedAndKeepsTheValue()
    {
        var first = await Client.PutStringAsync("cas/stale", "v1");
        await Client.PutStringAsync("cas/stale", "v2");

        var exception = await Assert.ThrowsAsync<AzKvPreconditionFailedException>(
            () => Client.PutStringAsync("cas/stale", "v3", KvCondition.IfMatch(first.ETag)));

        Assert.Equal(412, exception.Status);
        Assert.Equal("v2", await Client.GetStringAsync("cas/stale"));
    }

    [Fact]
    public async Task PutAsync_WhenIfMatchETagIsGivenWithoutQuotes_StillMatches()
    {
        var first = await Client.PutStringAsync("cas/unquoted", "v1");

        var second = await Client.PutStringAsync("cas/unquoted", "v2", KvCondition.IfMatch(first.ETag.Trim('"')));

        Assert.Equal("v2", await Client.GetStringAsync("cas/unquoted"));
        Assert.NotEqual(first.ETag, second.ETag);
    }

    [Fact]
    public async Task TryPutAsync_WhenIfMatchIsStale_ReturnsNullAndKeepsTheValue()
    {
        var first = await Client.PutStringAsync("cas/try", "v1");
        var second = await Client.PutStringAsync("cas/try", "v2");

        var result = await Client.TryPutAsync("cas/try", "v3"u8.ToArray(), "text/plain", KvCondition.IfMatch(first.ETag));

        Assert.Null(result);
        var entry = await Client.GetAsync("cas/try");
        Assert.Equal("v2", entry?.GetString());
        Assert.Equal(second.ETag, entry?.ETag);
    }

    [Fact]
    public async Task PutAsync_WhenCreateOnlyAndTheKeyIsNew_Creates()
    {
        var result = await Client.PutStringAsync("create/new", "first", KvCondition.IfNoneMatch);

        Assert.True(result.Created);
        Assert.Equal("first", await Client.GetStringAsync("create/new"));
    }

    [Fact]
    public async Task PutAsync_WhenCreateOnlyAndTheKeyExists_ThrowsPreconditionFailed()
    {
        await Client.PutStringAsync("create/exists", "first");

        await Assert.ThrowsAsync<AzKvPreconditionFailedException>(
            () => Client.PutStringAsync("create/exists", "second", KvCondition.IfNoneMatch));
        Assert.Null(await Client.TryPutAsync("create/exists", "third"u8.ToArray(), condition: KvCondition.IfNoneMatch));
        Assert.Equal("first", await Client.GetStringAsync("create/exists"));
    }

    [Fact]
    public async Task DeleteAsync_WhenKeyExists_ReturnsTrueThenFalseAndTheKeyIsGone()
    {
        await Client.PutStringAsync("delete/me", "x");

        Assert.True(await Client.DeleteAsync("delete/me"));
        Assert.False(await Client.DeleteAsync("delete/me"));
        Assert.Null(await Client.GetAsync("delete/me"));
    }

    [Fact]
    public async Task DeleteAsync_WhenIfMatchIsStale_ThrowsPreconditionFailedAndKeepsTheKey()
    {
        var first = await Client.PutStringAsync("delete/cas", "v1");
        var second = await Client.PutStringAsync("delete/cas", "v2");

        await Assert.ThrowsAsync<AzKvPreconditionFailedException>(() => Client.DeleteAsync("delete/cas", first.ETag));

        Assert.Equal("v2", await Client.GetStringAsync("delete/cas"));
        Assert.True(await Client.DeleteAsync("delete/cas", second.ETag));
    }

    [Fact]
    public async Task PutAsync_WhenKeyWasDeleted_ReportsCreatedAgain()
    {
        await Client.PutStringAsync("delete/recreate", "v1");
        await Client.DeleteAsync("delete/recreate");

        var again = await Client.PutStringAsync("delete/recreate", "v2");

        Assert.True(again.Created);
        Assert.Equal("v2", await Client.GetStringAsync("delete/recreate"));
    }

    [Theory]
    [InlineData("ключ/значение")]
    [InlineData("with space/and+plus")]
    [InlineData("100%/%41%2F")]
    [InlineData("what?is=this&that")]
    [InlineData("a#fragment")]
    [InlineData("emoji/\U0001F6A9")]
    [InlineData("dots/../and/./more")]
    [InlineData("/leading/and//double/")]
    public async Task PutAsync_WhenKeyNeedsPercentEncoding_RoundTripsTheKeyExactly(string key)
    {
        var value = Encoding.UTF8.GetBytes("value of " + key);
        await Client.PutAsync(key, value, "text/plain");

        var entry = await Client.GetAsync(key);
        var listed = await Client.ListPageAsync(prefix: key, limit: 10);

        Assert.Equal(value, entry?.Value.ToArray());
        Assert.Contains(listed.Items, item => item.Key == key);
        Assert.True(await Client.DeleteAsync(key));
    }

    [Fact]
    public async Task GetAsync_WhenKeyHasAControlCharacter_ThrowsInvalidKeyWithoutRetrying()
    {
        var exception = await Assert.ThrowsAsync<AzKvException>(() => Client.GetAsync("bad\u0001key"));

        Assert.Equal(400, exception.Status);
        Assert.Equal(AzKvProblemTypes.InvalidKey, exception.ProblemType);
        Assert.False(string.IsNullOrEmpty(exception.Title));
    }

    [Fact]
    public async Task PutAsync_WhenKeyIsOver1024Bytes_ThrowsInvalidKey()
    {
        var exception = await Assert.ThrowsAsync<AzKvException>(() => Client.PutStringAsync(new string('k', 1025), "x"));

        Assert.Equal(400, exception.Status);
        Assert.Equal(AzKvProblemTypes.InvalidKey, exception.ProblemType);
    }

    [Fact]
    public async Task PutAsync_WhenValueIsOverTheLimit_ThrowsValueTooLarge()
    {
        var exception = await Assert.ThrowsAsync<AzKvException>(() => Client.PutAsync("limits/large", new byte[MaxValueBytes + 1]));

        Assert.Equal(413, exception.Status);
        Assert.Equal(AzKvProblemTypes.ValueTooLarge, exception.ProblemType);
        Assert.Null(await Client.GetAsync("limits/large"));
    }

    [Fact]
    public async Task PutAsync_WhenValueIsExactlyTheLimit_Accepts()
    {
        var value = new byte[MaxValueBytes];
        Random.Shared.NextBytes(value);

        await Client.PutAsync("limits/exact", value);

        Assert.Equal(value, (await Client.GetAsync("limits/exact"))?.Value.ToArray());
    }

    [Fact]
    public async Task GetClusterAsync_WhenTheNodeIsReady_DescribesRegionNodeAndServingPartitions()
    {
        var cluster = await Client.GetClusterAsync();

        Assert.Equal("local", cluster.Region);
        Assert.Equal("test-node", cluster.NodeId);
        Assert.Equal(4, cluster.PartitionCount);
        var node = Assert.Single(cluster.Nodes);
        Assert.Equal("test-node", node.NodeId);
        Assert.Equal(Server.Url.GetLeftPart(UriPartial.Authority), node.Endpoint.TrimEnd('/'));
        Assert.Equal(4, cluster.Partitions.Count);
        Assert.All(cluster.Partitions, p =>
        {
            Assert.Equal("test-node", p.Owner);
            Assert.True(p.Serving);
        });
        Assert.Equal([0, 1, 2, 3], cluster.Partitions.Select(p => p.Id).Order());
    }

    [Fact]
    public async Task GetAsync_WhenTheFirstEndpointIsUnreachable_FailsOverToTheNextAndPrefersItAfterwards()
    {
        var dead = new Uri($"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}");
        using var handler = new FaultInjectingHandler();
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [dead, Server.Url], Handler = handler });
        await Client.PutStringAsync("failover/key", "reached");

        var first = await client.GetStringAsync("failover/key");
        var second = await client.GetStringAsync("failover/key");

        Assert.Equal("reached", first);
        Assert.Equal("reached", second);
        var requests = handler.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Equal(dead.Port, requests[0].Port);
        Assert.Equal(Server.Url.Port, requests[1].Port);
        Assert.Equal(Server.Url.Port, requests[2].Port);
    }

    [Fact]
    public async Task GetAsync_WhenEveryEndpointIsUnreachable_ThrowsConnectionExceptionNamingThemAfterTheRetries()
    {
        var dead1 = new Uri($"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}");
        var dead2 = new Uri($"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}");
        using var handler = new FaultInjectingHandler();
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [dead1, dead2],
            Handler = handler,
            MaxRetries = 2,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });

        var exception = await Assert.ThrowsAsync<AzKvConnectionException>(() => client.GetAsync("any"));

        Assert.Equal(0, exception.Status);
        Assert.Contains(dead1.GetLeftPart(UriPartial.Authority), exception.Message, StringComparison.Ordinal);
        Assert.Contains(dead2.GetLeftPart(UriPartial.Authority), exception.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", exception.Message, StringComparison.Ordinal);
        Assert.Equal(6, handler.Requests.Count);
        Assert.Equal([dead1, dead2], exception.Endpoints);
    }

    [Fact]
    public async Task GetAsync_WhenTheNodeAnswers503ThenRecovers_RetriesHonouringRetryAfter()
    {
        await Client.PutStringAsync("retry/503", "eventually");
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, index) => index < 2 ? FaultInjectingHandler.Unavailable(TimeSpan.FromMilliseconds(300)) : null,
        };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });
        var started = System.Diagnostics.Stopwatch.StartNew();

        var value = await client.GetStringAsync("retry/503");

        Assert.Equal("eventually", value);
        Assert.Equal(3, handler.Requests.Count);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(550), $"Retry-After was not honoured: {started.Elapsed}");
    }

    [Fact]
    public async Task GetAsync_WhenTheNodeStaysUnavailable_ThrowsTheLast503Problem()
    {
        using var handler = new FaultInjectingHandler { Fault = (_, _) => FaultInjectingHandler.Unavailable(TimeSpan.Zero) };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            MaxRetries = 2,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });

        var exception = await Assert.ThrowsAsync<AzKvException>(() => client.GetAsync("retry/never"));

        Assert.Equal(503, exception.Status);
        Assert.Equal(AzKvProblemTypes.Unavailable, exception.ProblemType);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task PutAsync_WhenTheServerRejectsWith4xx_DoesNotRetry()
    {
        using var handler = new FaultInjectingHandler();
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [Server.Url], Handler = handler });

        await Assert.ThrowsAsync<AzKvException>(() => client.PutStringAsync("bad\u0002key", "x"));
        await Assert.ThrowsAsync<AzKvPreconditionFailedException>(() => client.PutStringAsync("retry/absent-cas", "x", KvCondition.IfMatch("\"AAAA\"")));

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task PutAsync_WhenTheConnectionFailsOnce_RetriesAndWrites()
    {
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, index) => index == 0 ? throw FaultInjectingHandler.ConnectionRefused() : null,
        };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });

        var result = await client.PutStringAsync("retry/connection", "written");

        Assert.True(result.Created);
        Assert.Equal("written", await Client.GetStringAsync("retry/connection"));
        Assert.Equal(2, handler.Requests.Count);
    }
}
