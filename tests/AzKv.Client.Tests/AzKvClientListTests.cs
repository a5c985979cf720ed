using System.Text;
using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>Listing and paging of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientListTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _fixture;
    private AzKvClient _client = null!;

    public AzKvClientListTests(AzuriteFixture azurite, ServerFixture fixture)
    {
        _azurite = azurite;
        _fixture = fixture;
    }

    public async Task InitializeAsync()
    {
        var server = await _fixture.GetAsync(_azurite);
        _client = new AzKvClient(server.Url);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ListAsync_WhenThereAreMoreKeysThanAPage_ReturnsEveryKeyOnceInByteOrder()
    {
        // Ordinal order of UTF-8 bytes: "B" < "a" < "ä" (0xC3 0xA4) < "z".
        string[] keys = ["paging/z", "paging/a/1", "paging/ä", "paging/B", "paging/a/2", "paging/a", "paging/0"];
        foreach (var key in keys)
        {
            await _client.PutStringAsync(key, "v:" + key);
        }

        var listed = new List<string>();
        await foreach (var item in _client.ListAsync("paging/", pageSize: 3))
        {
            listed.Add(item.Key);
        }

        var expected = keys.OrderBy(k => Encoding.UTF8.GetBytes(k), ByteComparer.Instance).ToArray();
        Assert.Equal(expected, listed);
        Assert.Equal(["paging/0", "paging/B", "paging/a", "paging/a/1", "paging/a/2", "paging/z", "paging/ä"], listed);
    }

    [Fact]
    public async Task ListPageAsync_WhenTheLimitIsSmallerThanTheKeys_ReturnsANextCursorUntilTheLastPage()
    {
        for (var i = 0; i < 5; i++)
        {
            await _client.PutStringAsync($"pages/{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var first = await _client.ListPageAsync("pages/", limit: 2);
        var second = await _client.ListPageAsync("pages/", limit: 2, cursor: first.Next);
        var third = await _client.ListPageAsync("pages/", limit: 2, cursor: second.Next);

        Assert.Equal(["pages/0", "pages/1"], first.Items.Select(i => i.Key));
        Assert.NotNull(first.Next);
        Assert.Equal(["pages/2", "pages/3"], second.Items.Select(i => i.Key));
        Assert.Equal(["pages/4"], third.Items.Select(i => i.Key));
        Assert.Null(third.Next);
    }

    [Fact]
    public async Task ListAsync_WhenValuesAreRequested_ReturnsEachValueWithItsMetadata()
    {
        var put = await _client.PutAsync("values/bin", new byte[] { 1, 2, 3 }, "application/x-bin");
        await _client.PutStringAsync("values/text", "héllo");

        var items = new List<KvItem>();
        await foreach (var item in _client.ListAsync("values/", includeValues: true))
        {
            items.Add(item);
        }

        Assert.Equal(2, items.Count);
        Assert.Equal("values/bin", items[0].Key);
        Assert.Equal(put.ETag, items[0].ETag);
        Assert.Equal("application/x-bin", items[0].ContentType);
        Assert.Equal(3, items[0].Size);
        Assert.Equal(new byte[] { 1, 2, 3 }, items[0].Value?.ToArray());
        Assert.Equal("héllo", Encoding.UTF8.GetString(items[1].Value!.Value.Span));
        Assert.Equal(6, items[1].Size);
    }

    [Fact]
    public async Task ListAsync_WhenValuesAreNotRequested_LeavesValueNull()
    {
        await _client.PutStringAsync("novalues/a", "x");

        var page = await _client.ListPageAsync("novalues/");

        var item = Assert.Single(page.Items);
        Assert.Null(item.Value);
        Assert.Equal(1, item.Size);
    }

    [Fact]
    public async Task ListAsync_WhenAKeyIsDeleted_NoLongerListsIt()
    {
        await _client.PutStringAsync("deleted/keep", "x");
        await _client.PutStringAsync("deleted/drop", "x");
        await _client.DeleteAsync("deleted/drop");

        var page = await _client.ListPageAsync("deleted/");

        Assert.Equal(["deleted/keep"], page.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task ListPageAsync_WhenNothingMatchesThePrefix_ReturnsAnEmptyLastPage()
    {
        var page = await _client.ListPageAsync("nothing-here/");

        Assert.Empty(page.Items);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task ListPageAsync_WhenLimitIsOutOfRange_ThrowsBeforeSending()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.ListPageAsync(limit: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.ListPageAsync(limit: 1001));
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
