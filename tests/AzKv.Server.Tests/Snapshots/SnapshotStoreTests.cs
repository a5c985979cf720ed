using AzKv.Server.Api;
using AzKv.Server.Snapshots;
using AzKv.Testing;

namespace AzKv.Server.Tests.Snapshots;

/// <summary>The snapshot blobs on the in-memory store with a manual clock: create-once, read back, cache, sweep.</summary>
public sealed class SnapshotStoreTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryBlobStore _blobs;
    private readonly SnapshotStore _store;

    public SnapshotStoreTests()
    {
        _blobs = new InMemoryBlobStore(timeProvider: _clock);
        _store = new SnapshotStore(_blobs, _clock);
    }

    public async Task InitializeAsync() => await _blobs.CreateContainerIfNotExistsAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    private SnapshotInfo Info(string name, TimeSpan retention, int items) => new(
        name, "ready", "key", [new SnapshotFilter("app/") { Label = "dev" }], _clock.GetUtcNow(), _clock.GetUtcNow() + retention, (long)retention.TotalSeconds, items, 0, "partition",
        [new SnapshotPartitionCut(0, 7), new SnapshotPartitionCut(1, 3)]);

    private static List<ListItem> Items(string value) =>
        [new ListItem("app/a", "\"e1\"", "text/plain", value.Length) { Label = "dev", Value = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value)) }, new ListItem("app/b", "\"e2\"", "text/plain", 1) { Value = "eA==" }];

    private async Task<bool> CreateAsync(string name, TimeSpan retention, string value)
    {
        var info = Info(name, retention, 2);
        return await _store.TryCreateAsync(SnapshotStore.Encode(info, Items(value)), info, CancellationToken.None);
    }

    [Fact]
    public async Task TryCreate_WhenTheNameExists_ReturnsFalseAndKeepsTheFirstContent()
    {
        Assert.True(await CreateAsync("s1", TimeSpan.FromHours(1), "first"));

        Assert.False(await CreateAsync("s1", TimeSpan.FromHours(1), "second"));

        var content = await _store.ReadAsync("s1", CancellationToken.None);
        Assert.NotNull(content);
        Assert.Equal("first", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(content.Items[0].Value!)));
        Assert.Equal(["app/a", "app/b"], content.Items.Select(i => i.Key));
        Assert.Equal("dev", content.Items[0].Label);
        Assert.Equal("dev", content.Info.Filters[0].Label);
        Assert.Equal([7L, 3L], content.Info.Partitions.Select(p => p.Lsn));
        Assert.NotNull(content.Info.ETag);
    }

    [Fact]
    public async Task ReadAsync_WhenDeletedAndCreatedAgain_ReturnsTheNewContentNotTheCachedOne()
    {
        await CreateAsync("s1", TimeSpan.FromHours(1), "old");
        var first = await _store.ReadAsync("s1", CancellationToken.None);

        Assert.True(await _store.DeleteAsync("s1", first!.Info.ETag!, CancellationToken.None));
        await CreateAsync("s1", TimeSpan.FromHours(1), "new");
        var second = await _store.ReadAsync("s1", CancellationToken.None);

        Assert.Equal("new", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(second!.Items[0].Value!)));
        Assert.NotEqual(first.Info.ETag, second.Info.ETag);
    }

    [Fact]
    public async Task DeleteAsync_WhenTheETagIsStale_ReturnsFalseAndKeepsTheSnapshot()
    {
        await CreateAsync("s1", TimeSpan.FromHours(1), "x");

        Assert.False(await _store.DeleteAsync("s1", "\"stale\"", CancellationToken.None));
        Assert.NotNull(await _store.ReadInfoAsync("s1", CancellationToken.None));
        Assert.False(await _store.DeleteAsync("absent", "\"e\"", CancellationToken.None));
    }

    [Fact]
    public async Task SweepAsync_WhenTheClockPassesExpiry_DeletesOnlyExpiredSnapshots()
    {
        await CreateAsync("short", TimeSpan.FromHours(1), "x");
        await CreateAsync("long", TimeSpan.FromDays(2), "x");

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await _store.SweepAsync(CancellationToken.None));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var deleted = await _store.SweepAsync(CancellationToken.None);

        Assert.Equal(1, deleted);
        Assert.Null(await _store.ReadInfoAsync("short", CancellationToken.None));
        Assert.NotNull(await _store.ReadInfoAsync("long", CancellationToken.None));
        var (listed, next) = await _store.ListAsync(null, 10, CancellationToken.None);
        Assert.Equal(["long"], listed.Select(i => i.Name));
        Assert.Null(next);
    }
}
