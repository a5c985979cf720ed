using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>Failover along the ordered endpoint list of <see cref="AzKvClient"/>, against a real node behind a dead or busy one.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientFailoverTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    public AzKvClientFailoverTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture)
    {
    }

    [Fact]
    public async Task GetAsync_WhenTheFirstEndpointAnswers503Repeatedly_FailsOverWithoutBackingOffAndPrefersTheNext()
    {
        await Client.PutStringAsync("failover503/key", "from the second");
        // The "first region": the same node under another name (localhost), always answering 503.
        var busy = new UriBuilder(Server.Url) { Host = "localhost" }.Uri;
        using var handler = new FaultInjectingHandler
        {
            Fault = (request, _) => request.RequestUri!.Host == "localhost" ? FaultInjectingHandler.Unavailable(TimeSpan.FromSeconds(30)) : null,
        };
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [busy, Server.Url], Handler = handler, MaxRetries = 0 });
        var started = System.Diagnostics.Stopwatch.StartNew();

        var first = await client.GetStringAsync("failover503/key");
        var second = await client.GetStringAsync("failover503/key");

        Assert.Equal("from the second", first);
        Assert.Equal("from the second", second);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"The client waited for the busy endpoint's Retry-After: {started.Elapsed}");
        var hosts = handler.Requests.Select(r => r.Host).ToArray();
        Assert.Equal(["localhost", "127.0.0.1", "127.0.0.1"], hosts);
    }

    [Fact]
    public async Task GetAsync_WhenTheFirstEndpointIsAnotherAppAnswering404_FailsOverInsteadOfReportingNotFound()
    {
        await Client.PutStringAsync("failover404/key", "from AzKv");
        // The first URL reaches some other web app: a plain 404 for every path.
        var other = new UriBuilder(Server.Url) { Host = "localhost" }.Uri;
        using var handler = new FaultInjectingHandler
        {
            Fault = (request, _) => request.RequestUri!.Host == "localhost"
                ? new HttpResponseMessage(System.Net.HttpStatusCode.NotFound) { Content = new StringContent("<html>Not Found</html>", System.Text.Encoding.UTF8, "text/html") }
                : null,
        };
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [other, Server.Url], Handler = handler, MaxRetries = 0 });

        var found = await client.GetStringAsync("failover404/key");
        var missing = await client.GetAsync("failover404/absent");

        Assert.Equal("from AzKv", found);
        Assert.Null(missing);
        Assert.Equal(["localhost", "127.0.0.1", "127.0.0.1"], handler.Requests.Select(r => r.Host).ToArray());
    }

    [Fact]
    public async Task GetAsync_WhenTheOnlyEndpointIsAnotherAppAnswering404_ThrowsNamingIt()
    {
        var other = new UriBuilder(Server.Url) { Host = "localhost" }.Uri;
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, _) => new HttpResponseMessage(System.Net.HttpStatusCode.NotFound) { Content = new StringContent("Not Found") },
        };
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [other], Handler = handler, MaxRetries = 0 });

        var exception = await Assert.ThrowsAsync<AzKvConnectionException>(() => client.GetAsync("failover404/any"));

        Assert.Contains("not an AzKv node", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_WhenEveryEndpointAnswers503_ReturnsTheProblemAfterTryingEachOnEveryAttempt()
    {
        var busy = new UriBuilder(Server.Url) { Host = "localhost" }.Uri;
        using var handler = new FaultInjectingHandler { Fault = (_, _) => FaultInjectingHandler.Unavailable(TimeSpan.Zero) };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [busy, Server.Url],
            Handler = handler,
            MaxRetries = 1,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });

        var exception = await Assert.ThrowsAsync<AzKvException>(() => client.GetAsync("failover503/none"));

        Assert.Equal(503, exception.Status);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task WatchAsync_WhenTheFirstEndpointRefusesConnections_WatchesThroughTheNext()
    {
        var dead = new Uri($"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}");
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [dead, Server.Url],
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            WatchPollTimeout = TimeSpan.FromSeconds(5),
        });
        var cursor = await client.GetWatchCursorAsync("failoverwatch/");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var changes = client.WatchAsync("failoverwatch/", cursor, deadline.Token).GetAsyncEnumerator(deadline.Token);
        var next = changes.MoveNextAsync();

        await Client.PutStringAsync("failoverwatch/a", "1");

        Assert.True(await next);
        Assert.Equal("failoverwatch/a", changes.Current.Key);
        Assert.Equal(KvChangeType.Put, changes.Current.Type);
    }
}
