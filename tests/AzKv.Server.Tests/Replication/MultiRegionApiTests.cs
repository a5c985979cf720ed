using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Server.Tests.Replication;

/// <summary>
/// Two and three regions, each a node with its own container on Azurite, replicating to each other
/// through the REST API: concurrent writes converge to identical listings everywhere, every LWW loser
/// is in the conflict log, the siblings policy answers 300 and a PUT with the context resolves it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public class MultiRegionApiTests : IAsyncLifetime
{
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    private readonly AzuriteFixture _azurite;
    private readonly List<InProcessServer> _servers = [];
    private readonly List<(string Container, string NodeId, List<string> Arguments)> _launches = [];
    protected readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public MultiRegionApiTests(AzuriteFixture azurite)
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
        await DisposeTransportAsync();
    }

    /// <summary>Settings every region gets for its replication transport (none: the blob tail).</summary>
    protected virtual IEnumerable<string> TransportArguments(IReadOnlyList<string> regions) => [];

    /// <summary>Stops what <see cref="TransportArguments"/> started.</summary>
    protected virtual Task DisposeTransportAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Put_WhenEveryRegionWritesTheSameKeysWhileReplicationIsPaused_ConvergesAndLogsEveryLoser(int count)
    {
        var regions = await StartRegionsAsync(count);
        await SwitchReplicationAsync(regions, "pause");

        var written = new List<(string Region, string Key, string Value)>();
        foreach (var (name, server) in regions)
        {
            for (var k = 0; k < 6; k++)
            {
                var value = $"{name}-{k}";
                using var response = await _http.PutAsync(new Uri(server.Url, $"/v1/kv/cfg/k{k}"), new StringContent(value, Encoding.UTF8, new MediaTypeHeaderValue("text/plain")));
                Assert.True(response.IsSuccessStatusCode, $"PUT in {name}: {(int)response.StatusCode}");
                written.Add((name, $"cfg/k{k}", value));
            }
        }

        // Paused: each region still shows only its own writes.
        foreach (var (name, server) in regions)
        {
            Assert.Equal($"{name}-0", await _http.GetStringAsync(new Uri(server.Url, "/v1/kv/cfg/k0")));
        }

        await SwitchReplicationAsync(regions, "resume");
        var dump = await ConvergedDumpAsync(regions);

        Assert.Equal(6, dump.GetArrayLength());
        foreach (var (name, server) in regions)
        {
            // Every acknowledged write that is not the winner (the same in every region) must be a loser in
            // this region's conflict log, with its value. A consumer appends the losers its round revealed
            // after the round's writes are visible, so the log may trail the converged state briefly.
            var expected = new HashSet<(string Key, string Region, string Value)>();
            foreach (var (region, key, value) in written)
            {
                if (await _http.GetStringAsync(new Uri(server.Url, "/v1/kv/" + key)) != value)
                {
                    expected.Add((key, region, value));
                }
            }

            Assert.Equal(6 * (count - 1), expected.Count);
            var logged = await LoggedLosersAsync(server, expected);
            Assert.True(
                expected.IsSubsetOf(logged),
                $"{name}'s conflict log lacks {string.Join(", ", expected.Except(logged))}; it holds {string.Join(", ", logged)}");

            using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/cluster")));
            var replication = cluster.RootElement.GetProperty("replication").EnumerateArray().ToList();
            Assert.Equal(count - 1, replication.Count);
            Assert.All(replication, r => Assert.Equal(0, r.GetProperty("lagMilliseconds").GetDouble()));
        }
    }

    [Fact]
    public async Task Get_WhenThePolicyIsSiblingsAndVersionsAreConcurrent_Returns300AndAPutWithTheContextResolves()
    {
        var regions = await StartRegionsAsync(2, "--AzKv:ConflictPolicies=flags/=siblings");
        await SwitchReplicationAsync(regions, "pause");
        foreach (var (name, server) in regions)
        {
            using var response = await _http.PutAsync(new Uri(server.Url, "/v1/kv/flags/dark-mode"), new StringContent(name, Encoding.UTF8, new MediaTypeHeaderValue("text/plain")));
            Assert.True(response.IsSuccessStatusCode);
        }

        await SwitchReplicationAsync(regions, "resume");
        await ConvergedDumpAsync(regions);

        var first = regions[0].Server;
        using var siblings = await _http.GetAsync(new Uri(first.Url, "/v1/kv/flags/dark-mode"));
        Assert.Equal(HttpStatusCode.MultipleChoices, siblings.StatusCode);
        using var body = JsonDocument.Parse(await siblings.Content.ReadAsStringAsync());
        var versions = body.RootElement.GetProperty("versions").EnumerateArray()
            .Select(v => Encoding.UTF8.GetString(Convert.FromBase64String(v.GetProperty("value").GetString()!))).Order().ToList();
        Assert.Equal(regions.Select(r => r.Name).Order(), versions);
        var context = body.RootElement.GetProperty("etag").GetString()!;
        Assert.Equal(context, siblings.Headers.ETag!.Tag);

        // LIST marks the key with its number of versions (the console's Conflicts view finds siblings with it).
        using (var listed = JsonDocument.Parse(await _http.GetStringAsync(new Uri(first.Url, "/v1/kv?prefix=flags/"))))
        {
            var item = Assert.Single(listed.RootElement.GetProperty("items").EnumerateArray());
            Assert.Equal(2, item.GetProperty("versions").GetInt32());
        }

        using var resolve = new HttpRequestMessage(HttpMethod.Put, new Uri(first.Url, "/v1/kv/flags/dark-mode"))
        {
            Content = new StringContent("resolved", Encoding.UTF8, new MediaTypeHeaderValue("text/plain")),
        };
        resolve.Headers.TryAddWithoutValidation("If-Match", context);
        using var resolved = await _http.SendAsync(resolve);
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);

        await ConvergedDumpAsync(regions);
        foreach (var (_, server) in regions)
        {
            Assert.Equal("resolved", await _http.GetStringAsync(new Uri(server.Url, "/v1/kv/flags/dark-mode")));
            using var listed = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/kv?prefix=flags/")));
            Assert.False(Assert.Single(listed.RootElement.GetProperty("items").EnumerateArray()).TryGetProperty("versions", out _));
        }

        // LWW keys are not affected by the prefix rule, and no siblings conflict is logged.
        using var log = JsonDocument.Parse(await _http.GetStringAsync(new Uri(first.Url, "/v1/conflicts?prefix=flags/")));
        Assert.Empty(log.RootElement.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task ListAndWatch_WhenADeleteIsConcurrentWithAnUpdateUnderSiblings_AgreeWithGet()
    {
        var regions = await StartRegionsAsync(2, "--AzKv:ConflictPolicies=flags/=siblings");
        var (first, second) = (regions[0].Server, regions[1].Server);
        using (var created = await _http.PutAsync(new Uri(first.Url, "/v1/kv/flags/beta"), new StringContent("v1", Encoding.UTF8, new MediaTypeHeaderValue("text/plain"))))
        {
            Assert.True(created.IsSuccessStatusCode);
        }

        await ConvergedDumpAsync(regions);
        using var start = JsonDocument.Parse(await _http.GetStringAsync(new Uri(first.Url, "/v1/watch?prefix=flags/&timeout=0")));
        var cursor = start.RootElement.GetProperty("cursor").GetString()!;
        await SwitchReplicationAsync(regions, "pause");
        using (var updated = await _http.PutAsync(new Uri(first.Url, "/v1/kv/flags/beta"), new StringContent("v2", Encoding.UTF8, new MediaTypeHeaderValue("text/plain"))))
        {
            Assert.True(updated.IsSuccessStatusCode);
        }

        // Later than the update, so the delete is the LWW winner of the two concurrent versions.
        await Task.Delay(20);
        using (var deleted = await _http.DeleteAsync(new Uri(second.Url, "/v1/kv/flags/beta")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await SwitchReplicationAsync(regions, "resume");
        await ConvergedDumpAsync(regions);

        foreach (var (_, server) in regions)
        {
            Assert.Equal("v2", await _http.GetStringAsync(new Uri(server.Url, "/v1/kv/flags/beta")));
            using var list = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/kv?prefix=flags/")));
            // Before the fix LIST used the LWW winner (the tombstone) and hid the key GET returns.
            Assert.Equal(["flags/beta"], list.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()));
        }

        var events = new List<string>();
        while (true)
        {
            using var page = JsonDocument.Parse(await _http.GetStringAsync(new Uri(first.Url, $"/v1/watch?prefix=flags/&cursor={cursor}&timeout=0")));
            var batch = page.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("type").GetString()!).ToList();
            if (batch.Count == 0)
            {
                break;
            }

            events.AddRange(batch);
            cursor = page.RootElement.GetProperty("cursor").GetString()!;
        }

        // Before the fix watch reported the merge as a delete.
        Assert.Equal(["put", "put"], events);
    }

    [Fact]
    public async Task Put_WhenEntriesAreLabelled_ReplicatesEachLabelAsItsOwnEntry()
    {
        var regions = await StartRegionsAsync(2);
        foreach (var (label, value) in new[] { ((string?)null, "none"), ("dev", "blue"), ("prod", "red") })
        {
            using var put = await _http.PutAsync(
                new Uri(regions[0].Server.Url, "/v1/kv/cfg/color" + (label is null ? string.Empty : "?label=" + label)),
                new StringContent(value, Encoding.UTF8, new MediaTypeHeaderValue("text/plain")));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var items = await ConvergedDumpAsync(regions);

        Assert.Equal(
            ["cfg/color::none", "cfg/color:dev:blue", "cfg/color:prod:red"],
            items.EnumerateArray().Select(i => $"{i.GetProperty("key").GetString()}:{(i.TryGetProperty("label", out var l) ? l.GetString() : null)}:{Encoding.UTF8.GetString(Convert.FromBase64String(i.GetProperty("value").GetString()!))}"));
        Assert.Equal("blue", await _http.GetStringAsync(new Uri(regions[1].Server.Url, "/v1/kv/cfg/color?label=dev")));
    }

    [Fact]
    public async Task Pause_WhenTheRegionIsUnknown_Returns404Problem()
    {
        var regions = await StartRegionsAsync(2);

        using var response = await _http.PostAsync(new Uri(regions[0].Server.Url, "/v1/replication/nowhere/pause"), null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    protected async Task<List<(string Name, InProcessServer Server)>> StartRegionsAsync(int count, params string[] extra)
    {
        var names = Enumerable.Range(1, count).Select(i => $"r{i}").ToList();
        var transport = TransportArguments(names).ToList();
        var containers = names.Select(_ => InProcessServer.NewContainer()).ToList();
        var started = new List<(string, InProcessServer)>();
        for (var r = 0; r < count; r++)
        {
            var arguments = new List<string> { "--AzKv:Region=" + names[r], "--AzKv:Replication:PollMilliseconds=20" };
            var p = 0;
            for (var other = 0; other < count; other++)
            {
                if (other == r)
                {
                    continue;
                }

                arguments.Add($"--AzKv:Peers:{p}:Region={names[other]}");
                arguments.Add($"--AzKv:Peers:{p}:ConnectionString={_azurite.ConnectionString}");
                arguments.Add($"--AzKv:Peers:{p}:Container={containers[other]}");
                p++;
            }

            arguments.AddRange(transport);
            arguments.AddRange(extra);
            _launches.Add((containers[r], names[r] + "-node", arguments));
            var server = await InProcessServer.StartAsync(_azurite.ConnectionString, containers[r], nodeId: names[r] + "-node", extraArguments: arguments);
            _servers.Add(server);
            started.Add((names[r], server));
        }

        return started;
    }

    /// <summary>Starts region <paramref name="index"/> (0-based) again, on its container with its settings (after its node was disposed).</summary>
    protected async Task<InProcessServer> RestartRegionAsync(int index)
    {
        var (container, nodeId, arguments) = _launches[index];
        var server = await InProcessServer.StartAsync(_azurite.ConnectionString, container, nodeId: nodeId, extraArguments: arguments);
        _servers.Add(server);
        return server;
    }

    protected async Task SwitchReplicationAsync(List<(string Name, InProcessServer Server)> regions, string action)
    {
        foreach (var (name, server) in regions)
        {
            foreach (var (source, _) in regions.Where(r => r.Name != name))
            {
                using var response = await _http.PostAsync(new Uri(server.Url, $"/v1/replication/{source}/{action}"), null);
                Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            }
        }
    }

    /// <summary>Waits until every region lists the same keys, values and ETags, and every consumer is caught up; returns the listing.</summary>
    /// <summary>
    /// The (key, loser region, loser value) entries of a region's conflict log, read again until they include
    /// <paramref name="expected"/> or <see cref="ConvergeTimeout"/> has passed.
    /// </summary>
    private async Task<HashSet<(string Key, string Region, string Value)>> LoggedLosersAsync(
        InProcessServer server, HashSet<(string Key, string Region, string Value)> expected)
    {
        var deadline = DateTime.UtcNow + ConvergeTimeout;
        while (true)
        {
            using var conflicts = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/conflicts?prefix=cfg/&limit=1000")));
            var logged = conflicts.RootElement.GetProperty("items").EnumerateArray()
                .Select(item => (
                    item.GetProperty("key").GetString()!,
                    item.GetProperty("loser").GetProperty("region").GetString()!,
                    Encoding.UTF8.GetString(Convert.FromBase64String(item.GetProperty("loser").GetProperty("value").GetString()!))))
                .ToHashSet();
            if (expected.IsSubsetOf(logged) || DateTime.UtcNow > deadline)
            {
                return logged;
            }

            await Task.Delay(100);
        }
    }

    protected async Task<JsonElement> ConvergedDumpAsync(List<(string Name, InProcessServer Server)> regions)
    {
        var deadline = DateTime.UtcNow + ConvergeTimeout;
        var last = new List<string>();
        while (true)
        {
            last.Clear();
            var caughtUp = true;
            foreach (var (_, server) in regions)
            {
                last.Add(await _http.GetStringAsync(new Uri(server.Url, "/v1/kv?limit=1000&values=true")));
                using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/cluster")));
                caughtUp &= cluster.RootElement.GetProperty("replication").EnumerateArray().All(r => r.GetProperty("caughtUp").GetBoolean());
            }

            if (caughtUp && last.Distinct().Count() == 1)
            {
                return JsonDocument.Parse(last[0]).RootElement.GetProperty("items").Clone();
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The regions did not converge within {ConvergeTimeout} (caught up: {caughtUp}):\n{string.Join("\n", last)}");
            }

            await Task.Delay(100);
        }
    }
}
