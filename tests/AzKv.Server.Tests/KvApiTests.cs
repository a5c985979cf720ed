using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>The /v1 API over real HTTP against a node on Azurite: every endpoint and error kind.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class KvApiTests(AzuriteFixture azurite) : ServerApiTests(azurite, "kv")
{
    [Fact]
    public async Task Put_WhenNewThenReplaced_Returns201Then200WithChangingETag()
    {
        using var created = await Http.PutAsync("/v1/kv/app/color", Text("blue"));
        using var replaced = await Http.PutAsync("/v1/kv/app/color", Text("green"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.NotEqual(created.Headers.ETag, replaced.Headers.ETag);
        var body = await JsonAsync(replaced);
        Assert.Equal("app/color", body.GetProperty("key").GetString());
        Assert.Equal(replaced.Headers.ETag!.ToString(), body.GetProperty("etag").GetString());
        Assert.False(body.GetProperty("created").GetBoolean());
    }

    [Fact]
    public async Task Get_WhenStored_ReturnsValueContentTypeAndETag()
    {
        using var put = await Http.PutAsync("/v1/kv/app/json", Text("{\"a\":1}", "application/json"));

        using var get = await Http.GetAsync("/v1/kv/app/json");

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("{\"a\":1}", await get.Content.ReadAsStringAsync());
        Assert.Equal("application/json", get.Content.Headers.ContentType!.MediaType);
        Assert.Equal(put.Headers.ETag, get.Headers.ETag);
    }

    [Fact]
    public async Task Get_WhenIfNoneMatchIsCurrent_Returns304()
    {
        using var put = await Http.PutAsync("/v1/kv/k", Text("v"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/kv/k");
        request.Headers.IfNoneMatch.Add(put.Headers.ETag!);

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task Get_WhenAbsent_Returns404Problem()
    {
        using var response = await Http.GetAsync("/v1/kv/never/written");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Put_WhenIfMatchStale_Returns412AndKeepsValue()
    {
        using var first = await Http.PutAsync("/v1/kv/k", Text("1"));
        using var second = await Http.PutAsync("/v1/kv/k", Text("2"));
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/k") { Content = Text("3") };
        request.Headers.IfMatch.Add(first.Headers.ETag!);

        using var response = await Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal("2", await Http.GetStringAsync("/v1/kv/k"));
    }

    [Fact]
    public async Task Put_WhenIfNoneMatchStarAndExists_Returns412()
    {
        using var request1 = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/once") { Content = Text("1") };
        request1.Headers.TryAddWithoutValidation("If-None-Match", "*");
        using var request2 = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/once") { Content = Text("2") };
        request2.Headers.TryAddWithoutValidation("If-None-Match", "*");

        using var first = await Http.SendAsync(request1);
        using var second = await Http.SendAsync(request2);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await AssertProblemAsync(second, HttpStatusCode.PreconditionFailed, "precondition-failed");
    }

    [Fact]
    public async Task Put_WhenConcurrentIfMatchWritersRace_ExactlyOneWinsPerVersion()
    {
        using var start = await Http.PutAsync("/v1/kv/counter", Text("0"));
        var etag = start.Headers.ETag!;
        for (var round = 1; round <= 3; round++)
        {
            var attempts = Enumerable.Range(0, 12).Select(async i =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/counter") { Content = Text($"{round}-{i}") };
                request.Headers.IfMatch.Add(etag);
                using var response = await Http.SendAsync(request);
                return (response.StatusCode, response.Headers.ETag);
            }).ToArray();
            var results = await Task.WhenAll(attempts);

            var winners = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
            Assert.Single(winners);
            Assert.Equal(11, results.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed));
            etag = winners[0].ETag!;
        }
    }

    [Fact]
    public async Task Delete_WhenExistsThenAgain_Returns204Then404()
    {
        await Http.PutAsync("/v1/kv/gone", Text("x"));

        using var deleted = await Http.DeleteAsync("/v1/kv/gone");
        using var again = await Http.DeleteAsync("/v1/kv/gone");
        using var get = await Http.GetAsync("/v1/kv/gone");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Delete_WhenIfMatchStale_Returns412AndKeepsKey()
    {
        using var first = await Http.PutAsync("/v1/kv/d", Text("1"));
        await Http.PutAsync("/v1/kv/d", Text("2"));
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/kv/d");
        request.Headers.IfMatch.Add(first.Headers.ETag!);

        using var response = await Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal("2", await Http.GetStringAsync("/v1/kv/d"));
    }

    [Theory]
    [InlineData("/v1/kv/bad%01key")]
    [InlineData("/v1/kv/bad%7Fkey")]
    [InlineData("/v1/kv/bad%C3")]
    public async Task Put_WhenKeyIsInvalid_Returns400InvalidKeyAndStoresNothing(string path)
    {
        using var response = await Http.PutAsync(path, Text("x"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-key");
        using var list = await Http.GetAsync("/v1/kv?prefix=bad");
        Assert.Equal(0, (await JsonAsync(list)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Request_WhenKeyIsEmpty_Returns400InvalidKey()
    {
        await AssertProblemAsync(await Http.PutAsync("/v1/kv/", Text("x")), HttpStatusCode.BadRequest, "invalid-key");
        await AssertProblemAsync(await Http.GetAsync("/v1/kv/"), HttpStatusCode.BadRequest, "invalid-key");
        await AssertProblemAsync(await Http.DeleteAsync("/v1/kv/"), HttpStatusCode.BadRequest, "invalid-key");
    }

    [Fact]
    public async Task Put_WhenKeyIsLongerThan1024Bytes_Returns400()
    {
        using var response = await Http.PutAsync("/v1/kv/" + new string('k', 1025), Text("x"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-key");
    }

    [Fact]
    public async Task Put_WhenValueIsOverTheLimit_Returns413()
    {
        using var response = await Http.PutAsync("/v1/kv/big", new ByteArrayContent(new byte[(1024 * 1024) + 1]));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "value-too-large");
        await AssertProblemAsync(await Http.GetAsync("/v1/kv/big"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Put_WhenValueIsExactlyTheLimit_Succeeds()
    {
        var value = new byte[1024 * 1024];
        new Random(7).NextBytes(value);
        using var response = await Http.PutAsync("/v1/kv/max", new ByteArrayContent(value));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(value, await Http.GetByteArrayAsync("/v1/kv/max"));
    }

    [Fact]
    public async Task Put_WhenBothPreconditionHeaders_Returns400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/x") { Content = Text("1") };
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        request.Headers.TryAddWithoutValidation("If-Match", "\"AA\"");
        using var response = await Http.SendAsync(request);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Key_WhenItHasSlashesSpacesPercentAndUnicode_RoundTripsExactly()
    {
        const string key = "app/ünïcode key/100%/a?b#c";
        var path = "/v1/kv/" + string.Join('/', key.Split('/').Select(Uri.EscapeDataString));
        await Http.PutAsync(path, Text("v"));

        using var list = await Http.GetAsync("/v1/kv?prefix=" + Uri.EscapeDataString("app/ü"));

        var item = Assert.Single((await JsonAsync(list)).GetProperty("items").EnumerateArray());
        Assert.Equal(key, item.GetProperty("key").GetString());
        Assert.Equal("v", await Http.GetStringAsync(path));
    }

    [Fact]
    public async Task List_WithPrefixLimitAndValues_PagesInKeyOrder()
    {
        var keys = Enumerable.Range(0, 25).Select(i => $"list/{i:D3}").ToList();
        foreach (var key in keys)
        {
            await Http.PutAsync("/v1/kv/" + key, Text(key));
        }

        await Http.PutAsync("/v1/kv/other/x", Text("x"));
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var url = "/v1/kv?prefix=list/&limit=10&values=true" + (cursor is null ? string.Empty : "&cursor=" + cursor);
            var page = await JsonAsync(await Http.GetAsync(url));
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                var key = item.GetProperty("key").GetString()!;
                seen.Add(key);
                Assert.Equal(key, Encoding.UTF8.GetString(Convert.FromBase64String(item.GetProperty("value").GetString()!)));
                Assert.Equal(key.Length, item.GetProperty("size").GetInt32());
            }

            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);

        Assert.Equal(keys, seen);
    }

    [Fact]
    public async Task List_WhileWritesGoOn_NeverSkipsOrRepeatsAKeyThatExistsThroughout()
    {
        var stable = Enumerable.Range(0, 60).Select(i => $"p/{i * 2:D4}").ToList();
        foreach (var key in stable)
        {
            await Http.PutAsync("/v1/kv/" + key, Text("s"));
        }

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                // Odd keys come and go between pages; stable (even) keys are rewritten.
                await Http.PutAsync($"/v1/kv/p/{(i % 60 * 2) + 1:D4}", Text("new"));
                await Http.DeleteAsync($"/v1/kv/p/{((i + 30) % 60 * 2) + 1:D4}");
                await Http.PutAsync($"/v1/kv/{stable[i % 60]}", Text("rewritten"));
                i++;
            }
        });

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await JsonAsync(await Http.GetAsync("/v1/kv?prefix=p/&limit=7" + (cursor is null ? string.Empty : "&cursor=" + cursor)));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()!));
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);
        await stop.CancelAsync();
        await writer;

        Assert.Equal(seen.OrderBy(k => k, StringComparer.Ordinal), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(stable, key => Assert.Contains(key, seen));
    }

    [Theory]
    [InlineData("/v1/kv?limit=0")]
    [InlineData("/v1/kv?limit=abc")]
    [InlineData("/v1/kv?values=maybe")]
    [InlineData("/v1/kv?cursor=%%%")]
    [InlineData("/v1/watch?timeout=500")]
    [InlineData("/v1/watch?cursor=nope")]
    [InlineData("/v1/conflicts?limit=0")]
    [InlineData("/v1/conflicts?limit=1001")]
    [InlineData("/v1/conflicts?limit=abc")]
    public async Task Get_WhenQueryIsInvalid_Returns400InvalidRequest(string url)
    {
        using var response = await Http.GetAsync(url);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Watch_WhenCursorsAreChained_SeesEveryChangeInOrderPerKey()
    {
        var start = await JsonAsync(await Http.GetAsync("/v1/watch?prefix=w/&timeout=0"));
        var cursor = start.GetProperty("cursor").GetString()!;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await Http.PutAsync($"/v1/kv/w/{i % 8}", Text(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            await Http.DeleteAsync("/v1/kv/w/0");
        });

        var events = new List<(string Key, string Type)>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (events.Count < 41 && DateTime.UtcNow < deadline)
        {
            var page = await JsonAsync(await Http.GetAsync($"/v1/watch?prefix=w/&cursor={cursor}&timeout=5"));
            events.AddRange(page.GetProperty("changes").EnumerateArray().Select(c => (c.GetProperty("key").GetString()!, c.GetProperty("type").GetString()!)));
            cursor = page.GetProperty("cursor").GetString()!;
        }

        await writer;
        Assert.Equal(41, events.Count);
        Assert.Equal(40, events.Count(e => e.Type == "put"));
        Assert.Equal(("w/0", "delete"), events.Last(e => e.Key == "w/0"));
    }

    [Fact]
    public async Task Watch_WhenNoChangeBeforeTimeout_ReturnsEmptyWithTheSameCursor()
    {
        var start = await JsonAsync(await Http.GetAsync("/v1/watch?prefix=quiet/&timeout=0"));
        var page = await JsonAsync(await Http.GetAsync($"/v1/watch?prefix=quiet/&cursor={start.GetProperty("cursor").GetString()}&timeout=1"));
        Assert.Equal(0, page.GetProperty("changes").GetArrayLength());
        Assert.Equal(start.GetProperty("cursor").GetString(), page.GetProperty("cursor").GetString());
    }

    [Fact]
    public async Task Watch_WhenEventStreamIsAsked_StreamsChangesWithResumableIds()
    {
        var start = await JsonAsync(await Http.GetAsync("/v1/watch?prefix=sse/&timeout=0"));
        await Http.PutAsync("/v1/kv/sse/a", Text("1"));
        await Http.PutAsync("/v1/kv/sse/b", Text("2"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/watch?prefix=sse/&cursor={start.GetProperty("cursor").GetString()}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var ids = new List<string>();
        var data = new List<string>();
        while (data.Count < 2)
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            if (line!.StartsWith("id: ", StringComparison.Ordinal))
            {
                ids.Add(line[4..]);
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line[6..]);
            }
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"sse/a\"", data[0] + data[1], StringComparison.Ordinal);
        Assert.Contains("\"sse/b\"", data[0] + data[1], StringComparison.Ordinal);

        // Resuming from the first event's id yields exactly the second event.
        var resumed = await JsonAsync(await Http.GetAsync($"/v1/watch?prefix=sse/&cursor={ids[0]}&timeout=0"));
        var change = Assert.Single(resumed.GetProperty("changes").EnumerateArray());
        Assert.Contains(change.GetProperty("key").GetString()!, data[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_WhenReady_ShowsEveryPartitionOwnedAndServing()
    {
        var cluster = await JsonAsync(await Http.GetAsync("/v1/cluster"));
        Assert.Equal("local", cluster.GetProperty("region").GetString());
        Assert.Equal(4, cluster.GetProperty("partitionCount").GetInt32());
        var partitions = cluster.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(4, partitions.Count);
        Assert.All(partitions, p => Assert.True(p.GetProperty("serving").GetBoolean()));
        Assert.All(partitions, p => Assert.True(p.GetProperty("epoch").GetInt64() >= 1));
        Assert.Single(cluster.GetProperty("nodes").EnumerateArray());
    }

    [Fact]
    public async Task HealthAndReady_WhenRunning_Return200()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterWrites_ExposeRequestsCommitLatencyAndRecordsPerAppend()
    {
        await Http.PutAsync("/v1/kv/m", Text("1"));
        var text = await Http.GetStringAsync("/metrics");
        Assert.Contains("azkv_wal_records_per_append_count", text, StringComparison.Ordinal);
        Assert.Contains("azkv_commit_duration_milliseconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("azkv_http_requests_total{", text, StringComparison.Ordinal);
        Assert.Contains("azkv_wal_bytes_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheKvRoutes()
    {
        var document = await JsonAsync(await Http.GetAsync("/openapi/v1.json"));
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/kv", paths);
        Assert.Contains("/v1/watch", paths);
        Assert.Contains("/v1/cluster", paths);
    }
    [Fact]
    public async Task Put_WhenSentTwiceWithTheSameIdempotencyKey_AnswersTheSameOutcomeAndWritesOnce()
    {
        var before = await TotalLsnAsync();

        using var first = await SendKeyedAsync(HttpMethod.Put, "/v1/kv/idem/once", "op-1", Text("v1"));
        using var second = await SendKeyedAsync(HttpMethod.Put, "/v1/kv/idem/once", "op-1", Text("v1"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(before + 1, await TotalLsnAsync());
    }

    [Fact]
    public async Task Put_WhenTheIdempotencyKeyIsReusedWithAnotherBody_Returns422AndWritesNothing()
    {
        using var first = await SendKeyedAsync(HttpMethod.Put, "/v1/kv/idem/reuse", "op-2", Text("v1"));
        var before = await TotalLsnAsync();

        using var reused = await SendKeyedAsync(HttpMethod.Put, "/v1/kv/idem/reuse", "op-2", Text("v2"));

        await AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(before, await TotalLsnAsync());
        using var get = await Http.GetAsync("/v1/kv/idem/reuse");
        Assert.Equal("v1", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Delete_WhenSentTwiceWithTheSameIdempotencyKey_Returns204BothTimes()
    {
        using var put = await Http.PutAsync("/v1/kv/idem/delete", Text("v"));

        using var first = await SendKeyedAsync(HttpMethod.Delete, "/v1/kv/idem/delete", "del-1");
        using var second = await SendKeyedAsync(HttpMethod.Delete, "/v1/kv/idem/delete", "del-1");
        using var unkeyed = await Http.DeleteAsync("/v1/kv/idem/delete");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        await AssertProblemAsync(unkeyed, HttpStatusCode.NotFound, "not-found");
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("129")]
    public async Task Put_WhenTheIdempotencyKeyIsMalformed_Returns400NamingTheHeader(string key)
    {
        var value = key == "129" ? new string('k', 129) : key;
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/idem/bad") { Content = Text("v") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", value);

        using var response = await Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-idempotency-key");
        Assert.Contains("Idempotency-Key", (await JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var get = await Http.GetAsync("/v1/kv/idem/bad");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    private async Task<HttpResponseMessage> SendKeyedAsync(HttpMethod method, string path, string idempotencyKey, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await Http.SendAsync(request);
    }

    private async Task<long> TotalLsnAsync()
    {
        var cluster = await JsonAsync(await Http.GetAsync("/v1/cluster"));
        return cluster.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("lsn").GetInt64());
    }
}
