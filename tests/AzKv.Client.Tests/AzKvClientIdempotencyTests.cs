using System.Text;
using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>Exactly-once writes across retries, against a real node: the client's Idempotency-Key and the server's dedupe.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientIdempotencyTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    public AzKvClientIdempotencyTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture)
    {
    }

    [Fact]
    public async Task PutAsync_WhenTheFirstAttemptsAnswerIsLost_TheRetryIsAppliedOnce()
    {
        var start = await Client.PutStringAsync("idem/cas", "v1");
        using var handler = new FaultInjectingHandler { LoseResponse = (request, index) => index == 0 && request.Method == HttpMethod.Put };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            InitialBackoff = TimeSpan.FromMilliseconds(1),
            MaxBackoff = TimeSpan.FromMilliseconds(5),
        });
        var before = await TotalLsnAsync();

        // A compare-and-swap whose first attempt committed but whose answer was lost: the retry carries the same
        // key, so the server answers the first attempt's outcome instead of a 412 caused by that attempt.
        var result = await client.PutAsync("idem/cas", Encoding.UTF8.GetBytes("v2"), "text/plain", KvCondition.IfMatch(start.ETag));

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(before + 1, await TotalLsnAsync());
        Assert.Equal("v2", await Client.GetStringAsync("idem/cas"));
        var current = await Client.GetAsync("idem/cas");
        Assert.Equal(current!.ETag, result.ETag);
    }

    [Fact]
    public async Task DeleteAsync_WhenTheFirstAttemptsAnswerIsLost_TheRetryReportsTheDelete()
    {
        await Client.PutStringAsync("idem/delete", "v1");
        using var handler = new FaultInjectingHandler { LoseResponse = (_, index) => index == 0 };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            InitialBackoff = TimeSpan.FromMilliseconds(1),
            MaxBackoff = TimeSpan.FromMilliseconds(5),
        });
        var before = await TotalLsnAsync();

        // Without the key the retry would find the key gone and report false (404).
        Assert.True(await client.DeleteAsync("idem/delete"));

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(before + 1, await TotalLsnAsync());
        Assert.Null(await Client.GetStringAsync("idem/delete"));
    }

    private async Task<long> TotalLsnAsync() => (await Client.GetClusterAsync()).Partitions.Sum(p => p.Lsn);
}
