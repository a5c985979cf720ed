using AzKv.Testing.Server;
using System.Net;
using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;

namespace AzKv.Client.Tests;

/// <summary>The API key and bearer-token headers <see cref="AzKvClient"/> sends to a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientAuthTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    public AzKvClientAuthTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture)
    {
    }

    [Fact]
    public async Task PutAsync_WhenAnApiKeyIsSet_SendsItInTheXAzKvKeyHeaderOfEveryRequest()
    {
        var seen = new List<string?>();
        using var handler = new FaultInjectingHandler
        {
            Fault = (request, _) =>
            {
                lock (seen)
                {
                    seen.Add(request.Headers.TryGetValues("X-AzKv-Key", out var values) ? string.Join(",", values) : null);
                }

                return null;
            },
        };
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [Server.Url], Handler = handler, ApiKey = "k-123" });

        await client.PutStringAsync("auth/key", "v");
        var value = await client.GetStringAsync("auth/key");

        Assert.Equal("v", value);
        Assert.Equal(["k-123", "k-123"], seen);
    }

    [Fact]
    public async Task GetAsync_WhenATokenProviderIsSet_SendsTheBearerTokenAndAsksForItOnce()
    {
        var calls = 0;
        var seen = new List<string?>();
        using var handler = new FaultInjectingHandler
        {
            Fault = (request, _) =>
            {
                lock (seen)
                {
                    seen.Add(request.Headers.Authorization?.ToString());
                }

                return null;
            },
        };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            TokenProvider = _ =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.FromResult(new AzKvAccessToken("tok-1", DateTimeOffset.UtcNow.AddHours(1)));
            },
        });

        await client.PutStringAsync("auth/bearer", "v");
        await client.GetAsync("auth/bearer");
        await client.GetAsync("auth/bearer");

        Assert.Equal(1, calls);
        Assert.Equal(["Bearer tok-1", "Bearer tok-1", "Bearer tok-1"], seen);
    }

    [Fact]
    public async Task GetAsync_WhenTheServerAnswers401_GetsANewTokenAndRetriesOnce()
    {
        var issued = 0;
        var seen = new List<string?>();
        using var handler = new FaultInjectingHandler
        {
            Fault = (request, _) =>
            {
                var authorization = request.Headers.Authorization?.ToString();
                lock (seen)
                {
                    seen.Add(authorization);
                }

                return authorization == "Bearer tok-1" ? new HttpResponseMessage(HttpStatusCode.Unauthorized) : null;
            },
        };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            TokenProvider = _ => ValueTask.FromResult(new AzKvAccessToken($"tok-{Interlocked.Increment(ref issued)}", DateTimeOffset.UtcNow.AddHours(1))),
        });

        var entry = await client.GetAsync("auth/absent");

        Assert.Null(entry);
        Assert.Equal(["Bearer tok-1", "Bearer tok-2"], seen);
    }

    [Fact]
    public async Task GetAsync_WhenTheNewTokenIsRefusedToo_ThrowsTheUnauthorizedProblem()
    {
        using var handler = new FaultInjectingHandler { Fault = (_, _) => new HttpResponseMessage(HttpStatusCode.Unauthorized) };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            TokenProvider = _ => ValueTask.FromResult(new AzKvAccessToken("refused", DateTimeOffset.UtcNow.AddHours(1))),
        });

        var exception = await Assert.ThrowsAsync<AzKvException>(() => client.GetAsync("auth/refused"));

        Assert.Equal(401, exception.Status);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public void Constructor_WhenCredentialsWouldGoOverPlainHttpToARemoteHost_ThrowsNamingTheEndpoint()
    {
        var exception = Assert.Throws<ArgumentException>(() => new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [new Uri("http://azkv.example.com")],
            ApiKey = "secret",
        }));

        Assert.Contains("http://azkv.example.com", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WhenCredentialsGoOverHttpsOrLoopback_Accepts()
    {
        using var remote = new AzKvClient(new AzKvClientOptions { Endpoints = [new Uri("https://azkv.example.com")], ApiKey = "k" });
        using var local = new AzKvClient(new AzKvClientOptions { Endpoints = [new Uri("http://127.0.0.1:8080")], ApiKey = "k" });

        Assert.Equal("https", remote.Endpoints[0].Scheme);
        Assert.Equal("http", local.Endpoints[0].Scheme);
    }
}
