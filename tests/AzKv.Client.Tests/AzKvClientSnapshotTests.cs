using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>The snapshot methods of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientSnapshotTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _fixture;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private AzKvClient _client = null!;

    public AzKvClientSnapshotTests(AzuriteFixture azurite, ServerFixture fixture)
    {
        _azurite = azurite;
        _fixture = fixture;
    }

    private string Prefix => "snap-" + _id + "/";

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
    public async Task CreateSnapshotAsync_WhenKeysChangeAfterwards_ItemsKeepTheCutAndPageExactlyOnce()
    {
        for (var i = 0; i < 7; i++)
        {
            await _client.PutStringAsync($"{Prefix}k{i}", $"v{i}");
        }

        await _client.PutStringAsync(Prefix + "k0", "prod", "p0");
        var created = await _client.CreateSnapshotAsync("c-" + _id, [new AzKvSnapshotFilter(Prefix), new AzKvSnapshotFilter(Prefix, "prod")], TimeSpan.FromHours(2));
        await _client.PutStringAsync(Prefix + "k1", "changed");

        var items = await _client.GetSnapshotItemsAsync("c-" + _id, pageSize: 2).ToListAsync();
        var metadata = await _client.GetSnapshotAsync("c-" + _id);
        var listed = await _client.ListSnapshotsAsync().Select(s => s.Name).ToListAsync();

        Assert.Equal(7, created.ItemCount);
        Assert.Equal(7200, created.RetentionSeconds);
        Assert.Equal("partition", created.Consistency);
        Assert.NotEmpty(created.Partitions);
        Assert.Equal([new AzKvSnapshotFilter(Prefix), new AzKvSnapshotFilter(Prefix, "prod")], created.Filters);
        Assert.Equal(created.ETag, metadata!.ETag);
        Assert.Contains("c-" + _id, listed);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"{Prefix}k{i}"), items.Select(i => i.Key));
        Assert.Equal("prod", items[0].Label);
        Assert.Equal("p0"u8.ToArray(), items[0].Value!.Value.ToArray());
        Assert.Equal("v1"u8.ToArray(), items[1].Value!.Value.ToArray());
    }

    [Fact]
    public async Task CreateSnapshotAsync_WhenTheNameExists_ThrowsWithTheSnapshotExistsType()
    {
        await _client.PutStringAsync(Prefix + "a", "1");
        await _client.CreateSnapshotAsync("d-" + _id, [new AzKvSnapshotFilter(Prefix)]);

        var error = await Assert.ThrowsAsync<AzKvException>(() => _client.CreateSnapshotAsync("d-" + _id, [new AzKvSnapshotFilter(Prefix)]));

        Assert.Equal(409, error.Status);
        Assert.Equal(AzKvProblemTypes.SnapshotExists, error.ProblemType);
    }

    [Fact]
    public async Task DeleteSnapshotAsync_WhenPresentThenAbsent_ReturnsTrueThenFalseAndGetReturnsNull()
    {
        await _client.PutStringAsync(Prefix + "a", "1");
        await _client.CreateSnapshotAsync("e-" + _id, [new AzKvSnapshotFilter(Prefix)]);

        Assert.True(await _client.DeleteSnapshotAsync("e-" + _id));
        Assert.False(await _client.DeleteSnapshotAsync("e-" + _id));
        Assert.Null(await _client.GetSnapshotAsync("e-" + _id));
        var error = await Assert.ThrowsAsync<AzKvException>(() => _client.GetSnapshotItemsPageAsync("e-" + _id));
        Assert.Equal(AzKvProblemTypes.SnapshotNotFound, error.ProblemType);
    }
}
