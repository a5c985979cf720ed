using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AzKv.Server.Snapshots;
using AzKv.Storage;
using AzKv.Testing.Azurite;
using AzKv.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AzKv.Server.Tests.Snapshots;

/// <summary>Snapshots over the REST API (docs/api.md, "Snapshots") on a real node over Azurite, snapshot clock faked.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SnapshotApiTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private ServerProcess? _server;
    private SnapshotStore? _store;

    public SnapshotApiTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    private HttpClient Http => _server!.Http;

    public async Task InitializeAsync() => _server = await ServerProcess.StartAsync(
        _azurite,
        "snap" + Guid.NewGuid().ToString("N")[..16],
        4,
        builder => builder.Services.AddSingleton(provider => _store = new SnapshotStore(provider.GetRequiredService<IBlobStore>(), _clock)));

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    private async Task PutAsync(string key, string value, string? label = null)
    {
        using var response = await Http.PutAsync(
            $"/v1/kv/{key}{(label is null ? string.Empty : "?label=" + Uri.EscapeDataString(label))}",
            new StringContent(value, Encoding.UTF8, new MediaTypeHeaderValue("text/plain")));
        Assert.True(response.IsSuccessStatusCode, $"PUT {key}: {(int)response.StatusCode}");
    }

    private static string Body(string name, params (string Prefix, string? Label)[] filters) =>
        new JsonObject
        {
            ["name"] = name,
            ["filters"] = new JsonArray([.. filters.Select(f => (JsonNode)(f.Label is null ? new JsonObject { ["prefix"] = f.Prefix } : new JsonObject { ["prefix"] = f.Prefix, ["label"] = f.Label }))]),
        }.ToJsonString();

    private async Task<HttpResponseMessage> CreateAsync(string body) =>
        await Http.PostAsync("/v1/snapshots", new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task<JsonElement> CreatedAsync(string name, params (string Prefix, string? Label)[] filters)
    {
        using var response = await CreateAsync(Body(name, filters));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create {name}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Every item of a snapshot as "key[label]=value", paging with <paramref name="limit"/>; also the number of pages.</summary>
    private async Task<(List<string> Items, int Pages)> ItemsAsync(string name, int limit)
    {
        var items = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var response = await Http.GetAsync($"/v1/snapshots/{name}/kv?values=true&limit={limit}" + (cursor is null ? string.Empty : "&cursor=" + cursor));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await JsonAsync(response);
            pages++;
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                var label = item.TryGetProperty("label", out var l) ? l.GetString() : null;
                items.Add($"{item.GetProperty("key").GetString()}[{label}]={Encoding.UTF8.GetString(Convert.FromBase64String(item.GetProperty("value").GetString()!))}");
            }

            cursor = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (cursor is not null);
        return (items, pages);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string kind)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {kind}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("https://azkv.dev/problems/" + kind, JsonDocument.Parse(text).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Create_WhenKeysSpanPartitions_RecordsOneCutPerPartitionAndServesMetadataListAndItems()
    {
        for (var i = 0; i < 12; i++)
        {
            await PutAsync($"app/k{i:D2}", $"v{i}");
        }

        await PutAsync("other/x", "not selected");

        var created = await CreatedAsync("release-1", ("app/", null));
        using var get = await Http.GetAsync("/v1/snapshots/release-1");
        using var list = await Http.GetAsync("/v1/snapshots");
        var (items, _) = await ItemsAsync("release-1", 100);

        Assert.Equal(12, created.GetProperty("itemCount").GetInt32());
        Assert.Equal("partition", created.GetProperty("consistency").GetString());
        Assert.Equal(4, created.GetProperty("partitions").GetArrayLength());
        Assert.True(created.GetProperty("partitions").EnumerateArray().All(p => p.GetProperty("lsn").GetInt64() >= 0));
        Assert.False(string.IsNullOrEmpty(created.GetProperty("cursor").GetString()));
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromDays(30), created.GetProperty("expires").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var metadata = await JsonAsync(get);
        Assert.Equal(created.GetProperty("etag").GetString(), metadata.GetProperty("etag").GetString());
        Assert.True(metadata.GetProperty("sizeBytes").GetInt64() > 0);
        Assert.Equal(["release-1"], (await JsonAsync(list)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"app/k{i:D2}[]=v{i}"), items);
    }

    [Fact]
    public async Task Create_WhenKeysChangeAfterwards_SnapshotKeepsTheValuesOfTheCut()
    {
        await PutAsync("app/a", "1");
        await PutAsync("app/b", "1");
        await CreatedAsync("frozen", ("app/", null));

        await PutAsync("app/a", "2");
        (await Http.DeleteAsync("/v1/kv/app/b")).Dispose();
        await PutAsync("app/c", "new");

        var (items, _) = await ItemsAsync("frozen", 10);
        Assert.Equal(["app/a[]=1", "app/b[]=1"], items);
    }

    [Fact]
    public async Task Create_WhenFiltersNameLabels_SelectsThoseLabelsAndTheLaterFilterWinsPerKey()
    {
        await PutAsync("app/color", "none");
        await PutAsync("app/color", "red", "prod");
        await PutAsync("app/color", "blue", "dev");
        await PutAsync("app/size", "M");
        await PutAsync("app/mode", "fast", "dev");

        await CreatedAsync("prod-view", ("app/", null), ("app/", "prod"));
        await CreatedAsync("dev-only", ("app/", "dev"));

        Assert.Equal(["app/color[prod]=red", "app/size[]=M"], (await ItemsAsync("prod-view", 10)).Items);
        Assert.Equal(["app/color[dev]=blue", "app/mode[dev]=fast"], (await ItemsAsync("dev-only", 10)).Items);
    }

    [Fact]
    public async Task Items_WhenPagedWithASmallLimit_ReturnEveryItemExactlyOnceInOrder()
    {
        var expected = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            await PutAsync($"p/{i:D2}", $"x{i}");
            expected.Add($"p/{i:D2}[]=x{i}");
        }

        await CreatedAsync("paged", ("p/", null));
        var (items, pages) = await ItemsAsync("paged", 3);
        using var noValues = await Http.GetAsync("/v1/snapshots/paged/kv?limit=1");
        var first = (await JsonAsync(noValues)).GetProperty("items")[0];

        Assert.Equal(expected, items);
        Assert.Equal(8, pages);
        Assert.False(first.TryGetProperty("value", out _));
        Assert.Equal(2, first.GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task Create_WhenTheNameExists_Returns409SnapshotExistsAndKeepsTheFirst()
    {
        await PutAsync("app/a", "1");
        await CreatedAsync("dup", ("app/", null));
        await PutAsync("app/a", "2");

        using var again = await CreateAsync(Body("dup", ("app/", null)));

        await AssertProblemAsync(again, HttpStatusCode.Conflict, "snapshot-exists");
        Assert.Equal(["app/a[]=1"], (await ItemsAsync("dup", 10)).Items);
    }

    [Theory]
    [InlineData("{\"name\": \"\", \"filters\": [{\"prefix\": \"a/\"}]}", "invalid-snapshot")]
    [InlineData("{\"name\": \"bad/name\", \"filters\": [{\"prefix\": \"a/\"}]}", "invalid-snapshot")]
    [InlineData("{\"name\": \".hidden\", \"filters\": [{\"prefix\": \"a/\"}]}", "invalid-snapshot")]
    [InlineData("{\"name\": \"ok\"}", "invalid-snapshot")]
    [InlineData("{\"name\": \"ok\", \"filters\": []}", "invalid-snapshot")]
    [InlineData("{\"name\": \"ok\", \"filters\": [{\"prefix\": \"a\"}, {\"prefix\": \"b\"}, {\"prefix\": \"c\"}, {\"prefix\": \"d\"}]}", "invalid-snapshot")]
    [InlineData("{\"name\": \"ok\", \"filters\": [{\"label\": \"dev\"}]}", "invalid-snapshot")]
    [InlineData("{\"name\": \"ok\", \"filters\": [{\"prefix\": \"a/\", \"label\": \"*\"}]}", "invalid-label")]
    [InlineData("{\"name\": \"ok\", \"filters\": [{\"prefix\": \"a/\", \"label\": \"a,b\"}]}", "invalid-label")]
    [InlineData("{\"name\": \"ok\", \"filters\": [{\"prefix\": \"a/\"}], \"retentionSeconds\": 60}", "invalid-snapshot")]
    [InlineData("{\"name\": \"ok\", \"filters\": [{\"prefix\": \"a/\"}], \"retentionSeconds\": 7776001}", "invalid-snapshot")]
    [InlineData("not json", "invalid-snapshot")]
    public async Task Create_WhenTheRequestIsInvalid_Returns400WithAStableType(string body, string kind)
    {
        using var response = await CreateAsync(body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, kind);
        using var list = await Http.GetAsync("/v1/snapshots");
        Assert.Equal(0, (await JsonAsync(list)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Get_WhenRetentionHasPassed_Returns410IsNotListedAndTheSweepDeletesIt()
    {
        await PutAsync("app/a", "1");
        using var created = await CreateAsync("{\"name\": \"short\", \"filters\": [{\"prefix\": \"app/\"}], \"retentionSeconds\": 3600}");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await CreatedAsync("long", ("app/", null));

        _clock.Advance(TimeSpan.FromMinutes(59));
        using var before = await Http.GetAsync("/v1/snapshots/short");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(0, await _store!.SweepAsync(CancellationToken.None));

        _clock.Advance(TimeSpan.FromMinutes(1));
        using var expired = await Http.GetAsync("/v1/snapshots/short");
        using var expiredItems = await Http.GetAsync("/v1/snapshots/short/kv");
        using var list = await Http.GetAsync("/v1/snapshots");
        await AssertProblemAsync(expired, HttpStatusCode.Gone, "snapshot-expired");
        await AssertProblemAsync(expiredItems, HttpStatusCode.Gone, "snapshot-expired");
        Assert.Equal(["long"], (await JsonAsync(list)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));

        Assert.Equal(1, await _store.SweepAsync(CancellationToken.None));
        using var swept = await Http.GetAsync("/v1/snapshots/short");
        await AssertProblemAsync(swept, HttpStatusCode.NotFound, "snapshot-not-found");
        using var reuse = await CreateAsync(Body("short", ("app/", null)));
        Assert.Equal(HttpStatusCode.Created, reuse.StatusCode);
    }

    [Fact]
    public async Task Delete_WhenPresent_Returns204AndTheSnapshotIsGone()
    {
        await PutAsync("app/a", "1");
        await CreatedAsync("gone", ("app/", null));

        using var deleted = await Http.DeleteAsync("/v1/snapshots/gone");
        using var again = await Http.DeleteAsync("/v1/snapshots/gone");
        using var get = await Http.GetAsync("/v1/snapshots/gone");
        using var items = await Http.GetAsync("/v1/snapshots/gone/kv");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "snapshot-not-found");
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "snapshot-not-found");
        await AssertProblemAsync(items, HttpStatusCode.NotFound, "snapshot-not-found");
    }

    [Fact]
    public async Task Delete_WhenIfMatchIsAnotherETag_Returns412AndKeepsIt()
    {
        await PutAsync("app/a", "1");
        await CreatedAsync("kept", ("app/", null));
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/snapshots/kept");
        request.Headers.TryAddWithoutValidation("If-Match", "\"other\"");

        using var response = await Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        using var get = await Http.GetAsync("/v1/snapshots/kept");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }
}
