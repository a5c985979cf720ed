using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Server.Api;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>
/// Watch cursors are bound to the store that issued them: the codec, and a node refusing the cursor
/// of a store that was wiped and created again (it used to answer 200 with no changes, skipping
/// every write until the new store's LSNs passed the old ones).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WatchCursorTests
{
    private readonly AzuriteFixture _azurite;

    public WatchCursorTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    [Fact]
    public void TryDecode_WhenEncodedByTheSameStore_ReturnsThePositions()
    {
        var tag = WatchCursor.StoreTag("local", "a1");

        var result = WatchCursor.TryDecode(WatchCursor.Encode(tag, [3, 0, 17, long.MaxValue]), tag, 4, out var positions);

        Assert.Equal(WatchCursor.DecodeResult.Valid, result);
        Assert.Equal([3, 0, 17, long.MaxValue], positions);
    }

    [Theory]
    [InlineData("other-region", "a1", 4)]
    [InlineData("local", "a2", 4)]
    [InlineData("local", "a1", 8)]
    public void TryDecode_WhenIssuedByAnotherStore_ReturnsForeign(string region, string incarnation, int partitions)
    {
        var cursor = WatchCursor.Encode(WatchCursor.StoreTag(region, incarnation), new long[partitions]);

        var result = WatchCursor.TryDecode(cursor, WatchCursor.StoreTag("local", "a1"), 4, out var positions);

        Assert.Equal(WatchCursor.DecodeResult.Foreign, result);
        Assert.Empty(positions);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void TryDecode_WhenTheCursorHasTheFirstFormat_ReturnsForeign(int partitions)
    {
        var bytes = new byte[2 + (partitions * 8)];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)partitions);

        var result = WatchCursor.TryDecode(Base64Url.EncodeToString(bytes), WatchCursor.StoreTag("local", "a1"), partitions, out _);

        Assert.Equal(WatchCursor.DecodeResult.Foreign, result);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("%%%")]
    [InlineData("")]
    [InlineData("AgAAAAAAAAAAAQA")] // version 2, one partition announced, no position
    public void TryDecode_WhenNotACursor_ReturnsMalformed(string cursor)
    {
        Assert.Equal(WatchCursor.DecodeResult.Malformed, WatchCursor.TryDecode(cursor, WatchCursor.StoreTag("local", "a1"), 1, out _));
    }

    [Fact]
    public void StoreTag_WhenRegionOrIncarnationDiffer_Differs()
    {
        Assert.Equal(WatchCursor.StoreTag("r", "i"), WatchCursor.StoreTag("r", "i"));
        Assert.NotEqual(WatchCursor.StoreTag("r", "i"), WatchCursor.StoreTag("r", "j"));
        Assert.NotEqual(WatchCursor.StoreTag("r", "i"), WatchCursor.StoreTag("s", "i"));
    }

    [Fact]
    public async Task Watch_WhenTheCursorComesFromAWipedStore_Returns410CursorForeign()
    {
        string cursor;
        await using (var before = await ServerProcess.StartAsync(_azurite, "wiped" + Guid.NewGuid().ToString("N")[..16]))
        {
            for (var i = 0; i < 3; i++)
            {
                using var put = await before.Http.PutAsync("/v1/kv/x/k", Text("v" + i));
                Assert.True(put.IsSuccessStatusCode);
            }

            cursor = (await JsonAsync(await before.Http.GetAsync("/v1/watch?prefix=x/&timeout=0"))).GetProperty("cursor").GetString()!;
        }

        // The same deployment after its storage was wiped: a new, empty container.
        await using var after = await ServerProcess.StartAsync(_azurite, "wiped" + Guid.NewGuid().ToString("N")[..16]);
        using (var put = await after.Http.PutAsync("/v1/kv/x/k", Text("fresh")))
        {
            Assert.True(put.IsSuccessStatusCode);
        }

        using var response = await after.Http.GetAsync($"/v1/watch?prefix=x/&cursor={cursor}&timeout=3");

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response);
        Assert.Equal("https://azkv.dev/problems/cursor-foreign", problem.GetProperty("type").GetString());
        Assert.Contains("List the keys again", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_WhenTheNodeRestartsOnTheSameStorage_AcceptsTheCursorAndSeesTheChange()
    {
        var container = "same" + Guid.NewGuid().ToString("N")[..16];
        string cursor;
        await using (var before = await ServerProcess.StartAsync(_azurite, container))
        {
            cursor = (await JsonAsync(await before.Http.GetAsync("/v1/watch?prefix=y/&timeout=0"))).GetProperty("cursor").GetString()!;
        }

        await using var after = await ServerProcess.StartAsync(_azurite, container);
        using (var put = await after.Http.PutAsync("/v1/kv/y/k", Text("after restart")))
        {
            Assert.True(put.IsSuccessStatusCode);
        }

        var page = await JsonAsync(await after.Http.GetAsync($"/v1/watch?prefix=y/&cursor={cursor}&timeout=5"));

        var change = Assert.Single(page.GetProperty("changes").EnumerateArray());
        Assert.Equal("y/k", change.GetProperty("key").GetString());
    }

    private static StringContent Text(string value) => new(value, Encoding.UTF8, new MediaTypeHeaderValue("text/plain"));

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}
