using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests.Cluster;

/// <summary>
/// Several nodes in separate processes on one Azurite container: partitions spread over the
/// owners; a frontend-only node routes; owners crash (kill -9), leave and join under a write load
/// without losing an acknowledged write.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    private readonly AzuriteFixture _azurite;
    private readonly string _container = "cl" + Guid.NewGuid().ToString("N")[..16];
    private readonly List<NodeProcess> _nodes = [];

    public ClusterTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private NodeProcess Start(string id, string roles = "owner,frontend")
    {
        var node = NodeProcess.Start(id, _azurite.ConnectionString, _container, roles);
        _nodes.Add(node);
        return node;
    }

    private static async Task<JsonElement> ClusterAsync(NodeProcess node) =>
        JsonDocument.Parse(await node.Http.GetStringAsync("/v1/cluster")).RootElement.Clone();

    /// <summary>Waits until every partition is served by one of <paramref name="owners"/>; returns how long it took.</summary>
    private static async Task<TimeSpan> WaitAllServedByAsync(NodeProcess observer, TimeSpan timeout, params string[] owners)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var partitions = (await ClusterAsync(observer)).GetProperty("partitions").EnumerateArray().ToList();
                if (partitions.All(p => p.GetProperty("serving").GetBoolean() && owners.Contains(p.GetProperty("owner").GetString())))
                {
                    return clock.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // observer busy
            }

            Assert.True(clock.Elapsed < timeout, $"partitions not all served by {string.Join(",", owners)} within {timeout}");
            await Task.Delay(100);
        }
    }

    /// <summary>Writes keys through <paramref name="via"/> until cancelled; records the acknowledged value of each key.</summary>
    private static async Task WriteLoadAsync(NodeProcess via, ConcurrentDictionary<string, string> acknowledged, CancellationToken stop)
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async writer =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var key = $"load/{writer}/{i % 40}";
                var value = $"{writer}-{i}";
                try
                {
                    using var response = await via.Http.PutAsync("/v1/kv/" + key, new StringContent(value, Encoding.UTF8), CancellationToken.None);
                    if (response.IsSuccessStatusCode)
                    {
                        acknowledged[key] = value;
                    }
                    else if (response.StatusCode == HttpStatusCode.GatewayTimeout)
                    {
                        // outcome-unknown (the owner died with the write in flight): it may have landed,
                        // so the key's last acknowledged value is no longer a certain expectation until
                        // a later write of it is acknowledged.
                        acknowledged.TryRemove(key, out _);
                        await Task.Delay(20, CancellationToken.None);
                    }
                    else
                    {
                        // Otherwise only "retry later" (a definite no-op) is acceptable while ownership moves.
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        await Task.Delay(20, CancellationToken.None);
                    }
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(20, CancellationToken.None);
                }
            }
        }));
    }

    private static async Task AssertEveryAcknowledgedWriteAsync(IReadOnlyDictionary<string, string> acknowledged, params NodeProcess[] readers)
    {
        Assert.NotEmpty(acknowledged);
        foreach (var reader in readers)
        {
            foreach (var (key, value) in acknowledged)
            {
                Assert.Equal(value, await reader.Http.GetStringAsync("/v1/kv/" + key));
            }
        }
    }

    [Fact]
    public async Task Owners_WhenThreeStart_SpreadThePartitionsAndAFrontendRoutesLikeTheOwners()
    {
        var owners = new[] { Start("n1"), Start("n2"), Start("n3") };
        var frontend = Start("fe", "frontend");
        foreach (var node in owners.Append(frontend))
        {
            await node.WaitReadyAsync(Ready);
        }

        await WaitAllServedByAsync(frontend, Ready, "n1", "n2", "n3");
        var cluster = await ClusterAsync(frontend);
        var load = cluster.GetProperty("partitions").EnumerateArray().GroupBy(p => p.GetProperty("owner").GetString()).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(3, load.Count);
        Assert.Equal(4, cluster.GetProperty("nodes").GetArrayLength());

        for (var i = 0; i < 40; i++)
        {
            using var put = await frontend.Http.PutAsync($"/v1/kv/route/{i:D2}", new StringContent($"v{i}", Encoding.UTF8));
            Assert.True(put.IsSuccessStatusCode, $"PUT via frontend: {(int)put.StatusCode}");
        }

        var viaFrontend = await frontend.Http.GetStringAsync("/v1/kv?prefix=route/&values=true&limit=1000");
        foreach (var owner in owners)
        {
            Assert.Equal(viaFrontend, await owner.Http.GetStringAsync("/v1/kv?prefix=route/&values=true&limit=1000"));
            Assert.Equal("v7", await owner.Http.GetStringAsync("/v1/kv/route/07"));
        }

        Assert.Equal(40, JsonDocument.Parse(viaFrontend).RootElement.GetProperty("items").GetArrayLength());

        // The frontend forwards Idempotency-Key to the owner: a keyed PUT sent twice writes once.
        var lsnBefore = (await ClusterAsync(frontend)).GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("lsn").GetInt64());
        using var first = await PutKeyedAsync(frontend, "route/keyed", "once", "fwd-1");
        using var retry = await PutKeyedAsync(frontend, "route/keyed", "once", "fwd-1");
        using var reused = await PutKeyedAsync(frontend, "route/keyed", "other", "fwd-1");
        var lsnAfter = (await ClusterAsync(frontend)).GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("lsn").GetInt64());
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Equal(lsnBefore + 1, lsnAfter);
    }

    private static async Task<HttpResponseMessage> PutKeyedAsync(NodeProcess via, string key, string value, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent(value, Encoding.UTF8) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await via.Http.SendAsync(request);
    }

    [Fact]
    public async Task Owner_WhenKilledUnderLoad_ItsPartitionsMoveWithinLeasePlusFiveSecondsAndNoAcknowledgedWriteIsLost()
    {
        var n1 = Start("n1");
        var n2 = Start("n2");
        var victim = Start("n3");
        var frontend = Start("fe", "frontend");
        foreach (var node in new[] { n1, n2, victim, frontend })
        {
            await node.WaitReadyAsync(Ready);
        }

        await WaitAllServedByAsync(frontend, Ready, "n1", "n2", "n3");
        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var load = WriteLoadAsync(frontend, acknowledged, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(2));

        victim.Crash();
        var failover = await WaitAllServedByAsync(frontend, TimeSpan.FromSeconds(40), "n1", "n2");
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await load;

        // Lease 15 s: a dead owner's partitions are back within lease duration + 5 s.
        Assert.True(failover < TimeSpan.FromSeconds(20), $"failover took {failover}");
        await AssertEveryAcknowledgedWriteAsync(acknowledged, n1, n2, frontend);
    }

    [Fact]
    public async Task Owner_WhenStoppedGracefullyUnderLoad_HandsOverQuicklyAndNoAcknowledgedWriteIsLost()
    {
        var stays = Start("n1");
        var leaves = Start("n2");
        var frontend = Start("fe", "frontend");
        foreach (var node in new[] { stays, leaves, frontend })
        {
            await node.WaitReadyAsync(Ready);
        }

        await WaitAllServedByAsync(frontend, Ready, "n1", "n2");
        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var load = WriteLoadAsync(frontend, acknowledged, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(1));

        var clock = Stopwatch.StartNew();
        var exitCode = await leaves.StopGracefullyAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"n2 exited with {exitCode}: {leaves.Output}");
        var handover = clock.Elapsed;
        await WaitAllServedByAsync(frontend, TimeSpan.FromSeconds(14), "n1");
        var total = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await load;

        // A graceful handover releases the leases, so the survivor needs no lease to expire: both
        // bounds stay under the 15 s lease (a handover that fell back to expiry fails them), with
        // room for a busy machine (it takes about 4 s on an idle one).
        Assert.True(handover < TimeSpan.FromSeconds(10), $"the leaving node took {handover} to hand over and exit");
        Assert.True(total < TimeSpan.FromSeconds(13), $"the survivor served everything only after {total}");
        await AssertEveryAcknowledgedWriteAsync(acknowledged, stays, frontend);
    }

    [Fact]
    public async Task Owner_WhenANodeJoinsUnderLoad_ItTakesItsShareAndNoAcknowledgedWriteIsLost()
    {
        var first = Start("n1");
        await first.WaitReadyAsync(Ready);
        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var load = WriteLoadAsync(first, acknowledged, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(1));

        var joiner = Start("n2");
        await joiner.WaitReadyAsync(Ready);
        await WaitAllServedByAsync(first, TimeSpan.FromSeconds(20), "n1", "n2");
        await Task.Delay(TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await load;

        var owners = (await ClusterAsync(first)).GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("owner").GetString()).Distinct().ToList();
        Assert.Contains("n2", owners);
        Assert.Contains("n1", owners);
        await AssertEveryAcknowledgedWriteAsync(acknowledged, first, joiner);
    }
}
