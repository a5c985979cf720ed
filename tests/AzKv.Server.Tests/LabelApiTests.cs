using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>Labels over the REST API (docs/api.md, "Labels"): one entry per (key, label), each with its own ETag.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LabelApiTests(AzuriteFixture azurite) : ServerApiTests(azurite, "lb")
{
    private async Task<HttpResponseMessage> PutAsync(string key, string? label, string value)
    {
        var response = await Http.PutAsync($"/v1/kv/{key}{(label is null ? string.Empty : "?label=" + Uri.EscapeDataString(label))}", Text(value));
        Assert.True(response.IsSuccessStatusCode, $"PUT {key} [{label}]: {(int)response.StatusCode}");
        return response;
    }

    private async Task<List<(string Key, string? Label, string Value)>> ListAsync(string query)
    {
        var body = await JsonAsync(await Http.GetAsync("/v1/kv?values=true&" + query));
        return body.GetProperty("items").EnumerateArray()
            .Select(i => (i.GetProperty("key").GetString()!, i.TryGetProperty("label", out var l) ? l.GetString() : null, Encoding.UTF8.GetString(Convert.FromBase64String(i.GetProperty("value").GetString()!))))
            .ToList();
    }

    private async Task SeedAsync()
    {
        (await PutAsync("app/color", null, "none")).Dispose();
        (await PutAsync("app/color", "dev", "blue")).Dispose();
        (await PutAsync("app/color", "prod", "red")).Dispose();
        (await PutAsync("app/size", "dev", "L")).Dispose();
    }

    [Fact]
    public async Task Put_WhenLabelsDiffer_StoresDistinctEntriesWithTheirOwnETags()
    {
        using var dev = await PutAsync("app/color", "dev", "blue");
        (await PutAsync("app/color", null, "first")).Dispose();
        using var none = await PutAsync("app/color", null, "none");

        Assert.Equal(HttpStatusCode.Created, dev.StatusCode);
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Equal("dev", (await JsonAsync(dev)).GetProperty("label").GetString());
        Assert.False((await JsonAsync(none)).TryGetProperty("label", out _));
        Assert.NotEqual(none.Headers.ETag, dev.Headers.ETag);
        using var getDev = await Http.GetAsync("/v1/kv/app/color?label=dev");
        using var getNone = await Http.GetAsync("/v1/kv/app/color");
        using var getNullSpelled = await Http.GetAsync("/v1/kv/app/color?label=%00");
        using var getProd = await Http.GetAsync("/v1/kv/app/color?label=prod");
        Assert.Equal("blue", await getDev.Content.ReadAsStringAsync());
        Assert.Equal(dev.Headers.ETag, getDev.Headers.ETag);
        Assert.Equal("none", await getNone.Content.ReadAsStringAsync());
        Assert.Equal("none", await getNullSpelled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, getProd.StatusCode);
    }

    [Fact]
    public async Task Put_WhenIfMatchIsTheETagOfAnotherLabel_Returns412()
    {
        (await PutAsync("app/color", "dev", "blue")).Dispose();
        (await PutAsync("app/color", null, "first")).Dispose();
        using var none = await PutAsync("app/color", null, "none");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/app/color?label=dev") { Content = Text("green") };
        request.Headers.IfMatch.Add(none.Headers.ETag!);

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal("blue", await Http.GetStringAsync("/v1/kv/app/color?label=dev"));
    }

    [Fact]
    public async Task Put_WhenIfNoneMatchAndOnlyAnotherLabelExists_Creates()
    {
        (await PutAsync("app/color", null, "none")).Dispose();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/app/color?label=dev") { Content = Text("blue") };
        request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        using var again = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/app/color?label=dev") { Content = Text("blue") };
        again.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);

        using var created = await Http.SendAsync(request);
        using var conflict = await Http.SendAsync(again);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, conflict.StatusCode);
    }

    [Fact]
    public async Task Delete_WhenLabelled_RemovesOnlyThatLabel()
    {
        await SeedAsync();

        using var deleted = await Http.DeleteAsync("/v1/kv/app/color?label=dev");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v1/kv/app/color?label=dev")).StatusCode);
        Assert.Equal("none", await Http.GetStringAsync("/v1/kv/app/color"));
        Assert.Equal("red", await Http.GetStringAsync("/v1/kv/app/color?label=prod"));
    }

    [Fact]
    public async Task Put_WhenIdempotencyKeyRetriedOnALabel_AnswersTheFirstOutcome()
    {
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/app/color?label=dev") { Content = Text("blue") };
            request.Headers.Add("Idempotency-Key", "label-retry-1");
            return request;
        }

        using var first = await Http.SendAsync(Request());
        (await PutAsync("app/color", "dev", "later")).Dispose();
        using var retry = await Http.SendAsync(Request());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal("later", await Http.GetStringAsync("/v1/kv/app/color?label=dev"));
    }

    [Theory]
    [InlineData("", "app/color:,app/color:dev,app/color:prod,app/size:dev")]
    [InlineData("label=*", "app/color:,app/color:dev,app/color:prod,app/size:dev")]
    [InlineData("label=dev", "app/color:dev,app/size:dev")]
    [InlineData("label=dev,prod", "app/color:dev,app/color:prod,app/size:dev")]
    [InlineData("label=%00", "app/color:")]
    [InlineData("label=", "app/color:")]
    [InlineData("label=%00,prod", "app/color:,app/color:prod")]
    [InlineData("label=test", "")]
    public async Task List_WhenLabelFilterGiven_ReturnsTheMatchingEntriesWithTheirLabels(string query, string expected)
    {
        await SeedAsync();

        var items = await ListAsync("prefix=app/&" + query);

        Assert.Equal(expected, string.Join(",", items.Select(i => $"{i.Key}:{i.Label}")));
        if (items.Any(i => i.Label == "prod"))
        {
            Assert.Equal("red", items.Single(i => i.Label == "prod").Value);
        }
    }

    [Fact]
    public async Task List_WhenPagedOneAtATimeAcrossLabels_ReturnsEveryEntryOnce()
    {
        await SeedAsync();
        var seen = new List<string>();
        string? cursor = null;

        do
        {
            var body = await JsonAsync(await Http.GetAsync("/v1/kv?prefix=app/&limit=1" + (cursor is null ? string.Empty : "&cursor=" + cursor)));
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString() + ":" + (i.TryGetProperty("label", out var l) ? l.GetString() : null)));
            cursor = body.GetProperty("next").GetString();
        }
        while (cursor is not null);

        Assert.Equal(["app/color:", "app/color:dev", "app/color:prod", "app/size:dev"], seen);
    }

    [Fact]
    public async Task Watch_WhenLabelFiltered_ReturnsOnlyThatLabelsChangesWithTheLabel()
    {
        var start = await JsonAsync(await Http.GetAsync("/v1/watch?prefix=app/&timeout=0"));
        var cursor = start.GetProperty("cursor").GetString();
        await SeedAsync();
        (await Http.DeleteAsync("/v1/kv/app/size?label=dev")).Dispose();

        var dev = await JsonAsync(await Http.GetAsync($"/v1/watch?prefix=app/&label=dev&timeout=2&cursor={cursor}"));
        var none = await JsonAsync(await Http.GetAsync($"/v1/watch?prefix=app/&label=%00&timeout=2&cursor={cursor}"));
        var any = await JsonAsync(await Http.GetAsync($"/v1/watch?prefix=app/&timeout=2&cursor={cursor}"));

        // Changes are in order per partition; app/color and app/size may live in different partitions.
        var devChanges = dev.GetProperty("changes").EnumerateArray().Select(c => $"{c.GetProperty("type").GetString()} {c.GetProperty("key").GetString()} {c.GetProperty("label").GetString()}").ToList();
        Assert.Equal(["delete app/size dev", "put app/color dev", "put app/size dev"], devChanges.Order(StringComparer.Ordinal));
        Assert.True(devChanges.IndexOf("put app/size dev") < devChanges.IndexOf("delete app/size dev"));
        var noneChange = Assert.Single(none.GetProperty("changes").EnumerateArray());
        Assert.False(noneChange.TryGetProperty("label", out _));
        Assert.Equal(5, any.GetProperty("changes").GetArrayLength());
    }

    [Fact]
    public async Task Watch_WhenStreamedWithALabelFilter_SendsOnlyThatLabel()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/watch?prefix=app/&label=prod");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await SeedAsync();

        string? data = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (data is null && await reader.ReadLineAsync(deadline.Token) is { } line)
        {
            data = line.StartsWith("data: ", StringComparison.Ordinal) ? line[6..] : null;
        }

        var change = JsonDocument.Parse(data!).RootElement;
        Assert.Equal("app/color", change.GetProperty("key").GetString());
        Assert.Equal("prod", change.GetProperty("label").GetString());
    }

    [Theory]
    [InlineData("GET", "/v1/kv/app/color?label=a*b")]
    [InlineData("PUT", "/v1/kv/app/color?label=a,b")]
    [InlineData("DELETE", "/v1/kv/app/color?label=a%09b")]
    [InlineData("GET", "/v1/kv/app/color?label=dev&label=prod")]
    [InlineData("GET", "/v1/kv?label=dev,*")]
    [InlineData("GET", "/v1/watch?timeout=0&label=a%01")]
    public async Task Request_WhenLabelInvalid_Returns400InvalidLabel(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "PUT" ? Text("v") : null };

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("https://azkv.dev/problems/invalid-label", (await JsonAsync(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Put_WhenLabelIs257Bytes_Returns400InvalidLabel()
    {
        using var response = await Http.PutAsync("/v1/kv/app/color?label=" + new string('l', 257), Text("v"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("https://azkv.dev/problems/invalid-label", (await JsonAsync(response)).GetProperty("type").GetString());
    }
}
