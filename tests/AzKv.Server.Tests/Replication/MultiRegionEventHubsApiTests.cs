using System.Net;
using System.Text.Json;
using AzKv.Local.EventHubs;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Server.Tests.Replication;

/// <summary>
/// The multi-region API tests again, with replication over Event Hubs (the local stand-in, one hub per
/// region with 2 partitions for the 4 kv partitions, so hub partitions are shared), plus what only that
/// transport does: report itself, survive a hub that lost events, resume publishing after a restart.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MultiRegionEventHubsApiTests : MultiRegionApiTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly EventHubsStandIn _hubs = EventHubsStandIn.Start();

    public MultiRegionEventHubsApiTests(AzuriteFixture azurite)
        : base(azurite)
    {
    }

    [Fact]
    public async Task Cluster_WhenRegionsReplicateOverEventHubs_ReportsTheEventHubsTransport()
    {
        var regions = await StartRegionsAsync(2);

        await PutAsync(regions[0].Server, "k/one", "1");
        await WaitForValueAsync(regions[1].Server, "k/one", "1");

        // The value is applied a moment before the consumer saves and reports its position: wait for the position too.
        var status = await WaitForTransportAsync(
            regions[1].Server, "r1", "eventhubs", s => s.GetProperty("positions").EnumerateArray().Any(p => p.TryGetProperty("hubSequence", out _) && p.GetProperty("lsn").GetInt64() > 0));
        Assert.Equal(4, status.GetProperty("positions").GetArrayLength());
        Assert.True(Published("azkv-r1") >= 1, "r1's owner published its write to its hub");
    }

    [Fact]
    public async Task Replicate_WhenTheHubDroppedEventsUnread_FallsBackToTheBlobTailAndMissesNothing()
    {
        var regions = await StartRegionsAsync(2);
        await PutAsync(regions[0].Server, "g/0", "0");
        await WaitForValueAsync(regions[1].Server, "g/0", "0");
        await WaitForTransportAsync(regions[1].Server, "r1", "eventhubs");

        // r2 is down (its receivers hold nothing prefetched) while r1 writes and "retention" drops
        // every event of r1's hub, unread by r2.
        await regions[1].Server.DisposeAsync();
        for (var i = 1; i <= 8; i++)
        {
            await PutAsync(regions[0].Server, $"g/{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await WaitUntilAsync(() => Task.FromResult(Published("azkv-r1") >= 9), "r1 published its writes");
        foreach (var id in new[] { "0", "1" })
        {
            var (_, last) = _hubs.GetPartitionRange("azkv-r1", id);
            _hubs.Truncate("azkv-r1", id, last + 1);
        }

        var r2 = await RestartRegionAsync(1);
        for (var i = 1; i <= 8; i++)
        {
            await WaitForValueAsync(r2, $"g/{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var metrics = await _http.GetStringAsync(new Uri(r2.Url, "/metrics"));
        Assert.Contains("azkv_replication_fallbacks_total{reason=\"gap\",source=\"r1\"}", metrics, StringComparison.Ordinal);
        await WaitForTransportAsync(r2, "r1", "eventhubs");
    }

    [Fact]
    public async Task Publish_WhenTheOwnerRestarts_ResumesAfterTheLastPublishedLsnWithoutSkipping()
    {
        var regions = await StartRegionsAsync(2);
        for (var i = 0; i < 5; i++)
        {
            await PutAsync(regions[0].Server, $"p/{i}", "a");
        }

        await WaitUntilAsync(() => Task.FromResult(Published("azkv-r1") >= 5), "r1 published its first writes");
        var before = Published("azkv-r1");
        await regions[0].Server.DisposeAsync();
        var restarted = await RestartRegionAsync(0);
        for (var i = 5; i < 10; i++)
        {
            await PutAsync(restarted, $"p/{i}", "b");
        }

        for (var i = 0; i < 10; i++)
        {
            await WaitForValueAsync(regions[1].Server, $"p/{i}", i < 5 ? "a" : "b");
        }

        // The new owner resumed from the saved position: it published the 5 new records, and at most
        // what the old one published after its last save again (never from LSN 1 for every partition).
        var after = Published("azkv-r1");
        Assert.InRange(after - before, 5, 5 + before);
    }

    protected override IEnumerable<string> TransportArguments(IReadOnlyList<string> regions)
    {
        foreach (var region in regions)
        {
            _hubs.CreateHub("azkv-" + region, partitionCount: 2, regions.Where(r => r != region));
        }

        return ["--AzKv:EventHubs:ConnectionString=" + _hubs.GetConnectionString()];
    }

    protected override async Task DisposeTransportAsync() => await _hubs.DisposeAsync();

    private long Published(string hub) =>
        new[] { "0", "1" }.Sum(id => _hubs.GetPartitionRange(hub, id).LastSequenceNumber + 1);

    private async Task PutAsync(InProcessServer server, string key, string value)
    {
        using var response = await _http.PutAsync(new Uri(server.Url, "/v1/kv/" + key), new StringContent(value));
        Assert.True(response.IsSuccessStatusCode, $"PUT {key}: {(int)response.StatusCode}");
    }

    private async Task WaitForValueAsync(InProcessServer server, string key, string value) =>
        await WaitUntilAsync(
            async () =>
            {
                using var response = await _http.GetAsync(new Uri(server.Url, "/v1/kv/" + key));
                return response.StatusCode == HttpStatusCode.OK && await response.Content.ReadAsStringAsync() == value;
            },
            $"{key}={value} replicated");

    private async Task<JsonElement> WaitForTransportAsync(InProcessServer server, string source, string transport, Func<JsonElement, bool>? also = null)
    {
        JsonElement found = default;
        await WaitUntilAsync(
            async () =>
            {
                using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/cluster")));
                var status = cluster.RootElement.GetProperty("replication").EnumerateArray().Single(r => r.GetProperty("region").GetString() == source);
                found = status.Clone();
                return status.GetProperty("transport").GetString() == transport && (also is null || also(status));
            },
            $"replication from {source} on {transport}{(also is null ? string.Empty : " with the condition")}");
        return found;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not within {Deadline}: {what}.");
            }

            await Task.Delay(100);
        }
    }
}
