using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Server.Tests.Replication;

/// <summary>
/// Anti-entropy between regions (one node each, its own container on Azurite) through the REST API: a region that
/// can no longer get a lost region's writes by replication gets them from a peer that has them, and equal regions
/// exchange only their root hashes.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AntiEntropyApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly AzuriteFixture _azurite;
    private readonly List<InProcessServer> _servers = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public AntiEntropyApiTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        _http.Dispose();
    }

    [Fact]
    public async Task Verify_WhenALostRegionsWritesReachedOnlyOnePeer_MakesTheOtherRegionEqualToIt()
    {
        var (containers, servers) = await StartRegionsAsync(3);
        var (a, b, c) = (servers[0], servers[1], servers[2]);
        await CaughtUpAsync(servers); // every consumer has bootstrapped: from now on a region reads only its sources' own writes

        // c's writes reach a only: b does not read c.
        using (var paused = await _http.PostAsync(new Uri(b.Url, "/v1/replication/r3/pause"), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, paused.StatusCode);
        }

        await PutAsync(a, "cfg/from-a", "a");
        for (var i = 0; i < 12; i++)
        {
            await PutAsync(c, $"cfg/from-c/{i}", $"c-{i}");
        }

        using (var deleted = await _http.DeleteAsync(new Uri(c.Url, "/v1/kv/cfg/from-c/3")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await WaitAsync(async () => (await _http.GetAsync(new Uri(a.Url, "/v1/kv/cfg/from-c/3"))).StatusCode == HttpStatusCode.NotFound
            && (await _http.GetAsync(new Uri(a.Url, "/v1/kv/cfg/from-c/11"))).StatusCode == HttpStatusCode.OK
            && (await _http.GetAsync(new Uri(b.Url, "/v1/kv/cfg/from-a"))).StatusCode == HttpStatusCode.OK);

        // c's storage is lost.
        await c.DisposeAsync();
        await new BlobContainerClient(_azurite.ConnectionString, containers[2], new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05)).DeleteAsync(); // the version Azurite accepts
        Assert.NotEqual(await DumpAsync(a), await DumpAsync(b));

        using var verify = await _http.PostAsync(new Uri(b.Url, "/v1/replication/r1/verify"), null);
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        using var result = JsonDocument.Parse(await verify.Content.ReadAsStringAsync());

        Assert.Equal("repaired", result.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(12, result.RootElement.GetProperty("repairedKeys").GetInt32());
        Assert.Equal(12, result.RootElement.GetProperty("divergentKeys").GetInt32());
        Assert.Equal(4, result.RootElement.GetProperty("comparedPartitions").GetInt32());

        // Same keys, values and ETags (the ETag is the key's version vector), tombstones hidden alike.
        Assert.Equal(await DumpAsync(a), await DumpAsync(b));
        Assert.Equal("c-7", await _http.GetStringAsync(new Uri(b.Url, "/v1/kv/cfg/from-c/7")));
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri(b.Url, "/v1/kv/cfg/from-c/3"))).StatusCode);

        using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b.Url, "/v1/cluster")));
        var last = cluster.RootElement.GetProperty("replication").EnumerateArray().Single(r => r.GetProperty("region").GetString() == "r1").GetProperty("lastVerification");
        Assert.Equal(12, last.GetProperty("repairedKeys").GetInt32());
        Assert.Equal("repaired", last.GetProperty("outcome").GetString());
        var metrics = await _http.GetStringAsync(new Uri(b.Url, "/metrics"));
        Assert.Contains("azkv_antientropy_repaired_keys_total{peer=\"r1\"} 12", metrics);

        // Once repaired the regions agree: one root hash per partition.
        using var again = JsonDocument.Parse(await (await _http.PostAsync(new Uri(b.Url, "/v1/replication/r1/verify"), null)).Content.ReadAsStringAsync());
        Assert.Equal("equal", again.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(4, again.RootElement.GetProperty("nodesExchanged").GetInt32());
    }

    [Fact]
    public async Task Verify_WhenTheRegionsAreEqual_ExchangesOnlyTheRootHashes()
    {
        var (_, servers) = await StartRegionsAsync(2);
        for (var i = 0; i < 40; i++)
        {
            await PutAsync(servers[i % 2], $"k/{i}", $"v{i}");
        }

        await WaitAsync(async () => await DumpAsync(servers[0]) == await DumpAsync(servers[1]));
        await CaughtUpAsync(servers);

        using var verify = await _http.PostAsync(new Uri(servers[1].Url, "/v1/replication/r1/verify"), null);
        using var result = JsonDocument.Parse(await verify.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        Assert.Equal("equal", result.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(4, result.RootElement.GetProperty("comparedPartitions").GetInt32());
        Assert.Equal(4, result.RootElement.GetProperty("nodesExchanged").GetInt32()); // one root per partition
        Assert.Equal(0, result.RootElement.GetProperty("differingLeaves").GetInt32());
        Assert.Equal(0, result.RootElement.GetProperty("keysExchanged").GetInt32());
    }

    [Fact]
    public async Task Verify_WhenTheRegionHasTwoOwnerNodes_ComparesEveryPartitionOfTheRegion()
    {
        var (_, servers) = await StartRegionsAsync(2, nodesOfLastRegion: 2);
        var (a, b1, b2) = (servers[0], servers[1], servers[2]);
        await WaitAsync(async () =>
        {
            using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b1.Url, "/v1/cluster")));
            var partitions = cluster.RootElement.GetProperty("partitions").EnumerateArray().ToList();
            return partitions.All(p => p.GetProperty("serving").GetBoolean()) && partitions.Select(p => p.GetProperty("owner").GetString()).Distinct().Count() == 2;
        });
        for (var i = 0; i < 24; i++)
        {
            await PutAsync(a, $"spread/{i}", $"v{i}");
        }

        await WaitAsync(async () => await DumpAsync(a) == await DumpAsync(b1));
        await CaughtUpAsync(servers);

        using var verify = await _http.PostAsync(new Uri(b1.Url, "/v1/replication/r1/verify"), null);
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        using var result = JsonDocument.Parse(await verify.Content.ReadAsStringAsync());

        // Before, only the receiving node's partitions were compared (about half of them).
        Assert.Equal("equal", result.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(4, result.RootElement.GetProperty("comparedPartitions").GetInt32());
        Assert.Equal([0, 1, 2, 3], result.RootElement.GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("partition").GetInt32()));
        Assert.Equal(
            ["r2-node", "r2-node-2"],
            result.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("nodeId").GetString()).Order());

        // With the second node gone (and its partitions not yet taken over) the region cannot be fully compared: failed, not equal.
        await b2.DisposeAsync();
        using var partial = JsonDocument.Parse(await (await _http.PostAsync(new Uri(b1.Url, "/v1/replication/r1/verify"), null)).Content.ReadAsStringAsync());
        var outcome = partial.RootElement.GetProperty("outcome").GetString();
        var compared = partial.RootElement.GetProperty("comparedPartitions").GetInt32();
        Assert.True((outcome == "failed" && compared < 4) || (outcome == "equal" && compared == 4), $"outcome {outcome} with {compared} partitions compared");
    }

    [Fact]
    public async Task Verify_WhenTheRegionIsUnknown_Returns404Problem()
    {
        var (_, servers) = await StartRegionsAsync(2);

        using var response = await _http.PostAsync(new Uri(servers[0].Url, "/v1/replication/nowhere/verify"), null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.EndsWith("unknown-region", problem.RootElement.GetProperty("type").GetString());
    }

    /// <summary>One node per region (the last gets <paramref name="nodesOfLastRegion"/> on its container); servers in region order.</summary>
    private async Task<(List<string> Containers, List<InProcessServer> Servers)> StartRegionsAsync(int count, int nodesOfLastRegion = 1)
    {
        var names = Enumerable.Range(1, count).Select(i => $"r{i}").ToList();
        var containers = names.Select(_ => InProcessServer.NewContainer()).ToList();
        var servers = new List<InProcessServer>();
        for (var r = 0; r < count; r++)
        {
            var arguments = new List<string> { "--AzKv:Region=" + names[r], "--AzKv:Replication:PollMilliseconds=20", "--AzKv:Replication:AntiEntropyIntervalSeconds=0" };
            var p = 0;
            for (var other = 0; other < count; other++)
            {
                if (other != r)
                {
                    arguments.Add($"--AzKv:Peers:{p}:Region={names[other]}");
                    arguments.Add($"--AzKv:Peers:{p}:ConnectionString={_azurite.ConnectionString}");
                    arguments.Add($"--AzKv:Peers:{p}:Container={containers[other]}");
                    p++;
                }
            }

            for (var n = 1; n <= (r == count - 1 ? nodesOfLastRegion : 1); n++)
            {
                var server = await InProcessServer.StartAsync(
                    _azurite.ConnectionString, containers[r], nodeId: names[r] + "-node" + (n == 1 ? string.Empty : "-" + n), extraArguments: arguments);
                _servers.Add(server);
                servers.Add(server);
            }
        }

        return (containers, servers);
    }

    private async Task PutAsync(InProcessServer server, string key, string value)
    {
        using var response = await _http.PutAsync(new Uri(server.Url, "/v1/kv/" + key), new StringContent(value, Encoding.UTF8, new MediaTypeHeaderValue("text/plain")));
        Assert.True(response.IsSuccessStatusCode, $"PUT {key}: {(int)response.StatusCode}");
    }

    private Task<string> DumpAsync(InProcessServer server) => _http.GetStringAsync(new Uri(server.Url, "/v1/kv?limit=1000&values=true"));

    private Task CaughtUpAsync(IEnumerable<InProcessServer> servers) => WaitAsync(async () =>
    {
        foreach (var server in servers)
        {
            using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/cluster")));
            if (!cluster.RootElement.GetProperty("replication").EnumerateArray().All(r => r.GetProperty("caughtUp").GetBoolean()))
            {
                return false;
            }
        }

        return true;
    });

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(100);
        }
    }
}
