using System.Text;
using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>Listing and paging of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientListTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    public AzKvClientListTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture)
    {
    }

    [Fact]
    public async Task ListAsync_WhenThereAreMoreKeysThanAPage_ReturnsEveryKeyOnceInByteOrder()
    {
        // Ordinal order of UTF-8 bytes: "B" < "a" < "ä" (0xC3 0xA4) < "z".
        string[] keys = ["paging/z", "paging/a/1", "paging/ä", "paging/B", "paging/a/2", "paging/a", "paging/0"];
        foreach (var key in keys)
        {
            await Client.PutStringAsync(key, "v:" + key);
        }

        var listed = new List<string>();
        await foreach (var item in Client.ListAsync("paging/", pageSize: 3))
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
            await Client.PutStringAsync($"pages/{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var first = await Client.ListPageAsync("pages/", limit: 2);
        var second = await Client.ListPageAsync("pages/", limit: 2, cursor: first.Next);
        var third = await Client.ListPageAsync("pages/", limit: 2, cursor: second.Next);

        Assert.Equal(["pages/0", "pages/1"], first.Items.Select(i => i.Key));
        Assert.NotNull(first.Next);
        Assert.Equal(["pages/2", "pages/3"], second.Items.Select(i => i.Key));
        Assert.Equal(["pages/4"], third.Items.Select(i => i.Key));
        Assert.Null(third.Next);
    }

    [Fact]
    public async Task ListAsync_WhenValuesAreRequested_ReturnsEachValueWithItsMetadata()
    {
        var put = await Client.PutAsync("values/bin", new byte[] { 1, 2, 3 }, "application/x-bin");
        await Client.PutStringAsync("values/text", "héllo");

        var items = new List<KvItem>();
        await foreach (var item in Client.ListAsync("values/", includeValues: true))
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
        await Client.PutStringAsync("novalues/a", "x");

        var page = await Client.ListPageAsync("novalues/");

        var item = Assert.Single(page.Items);
        Assert.Null(item.Value);
        Assert.Equal(1, item.Size);
    }

    [Fact]
    public async Task ListAsync_WhenAKeyIsDeleted_NoLongerListsIt()
    {
        await Client.PutStringAsync("deleted/keep", "x");
        await Client.PutStringAsync("deleted/drop", "x");
        await Client.DeleteAsync("deleted/drop");

        var page = await Client.ListPageAsync("deleted/");

        Assert.Equal(["deleted/keep"], page.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task ListPageAsync_WhenNothingMatchesThePrefix_ReturnsAnEmptyLastPage()
    {
        var page = await Client.ListPageAsync("nothing-here/");

        Assert.Empty(page.Items);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task ListPageAsync_WhenLimitIsOutOfRange_ThrowsBeforeSending()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.ListPageAsync(limit: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.ListPageAsync(limit: 1001));
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
