using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>The label overloads of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientLabelTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _fixture;
    private readonly string _prefix = "lbl-" + Guid.NewGuid().ToString("N")[..8] + "/";
    private AzKvClient _client = null!;

    public AzKvClientLabelTests(AzuriteFixture azurite, ServerFixture fixture)
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
    public async Task PutStringAsync_WhenLabelsDiffer_EachLabelReadsItsOwnValue()
    {
        var key = _prefix + "color";
        await _client.PutStringAsync(key, "none");
        var dev = await _client.PutStringAsync(key, "dev", "blue");

        var entry = await _client.GetAsync(key, "dev");

        Assert.True(dev.Created);
        Assert.Equal("blue", entry!.GetString());
        Assert.Equal("dev", entry.Label);
        Assert.Equal(dev.ETag, entry.ETag);
        Assert.Equal("none", await _client.GetStringAsync(key));
        Assert.Null(await _client.GetStringAsync(key, "prod"));
    }

    [Fact]
    public async Task PutAsync_WhenCreateOnlyAndTheLabelExists_ThrowsPreconditionFailed()
    {
        var key = _prefix + "once";
        await _client.PutStringAsync(key, "dev", "1");

        await Assert.ThrowsAsync<AzKvPreconditionFailedException>(() => _client.PutStringAsync(key, "dev", "2", KvCondition.IfNoneMatch));
        Assert.NotNull(await _client.TryPutAsync(key, "prod", "3"u8.ToArray(), "text/plain", KvCondition.IfNoneMatch));
    }

    [Fact]
    public async Task DeleteAsync_WhenLabelled_LeavesTheOtherLabels()
    {
        var key = _prefix + "gone";
        await _client.PutStringAsync(key, "keep");
        await _client.PutStringAsync(key, "dev", "drop");

        Assert.True(await _client.DeleteAsync(key, "dev", ifMatch: null));
        Assert.False(await _client.DeleteAsync(key, "dev", ifMatch: null));
        Assert.Equal("keep", await _client.GetStringAsync(key));
    }

    [Fact]
    public async Task ListAsync_WhenLabelFilterGiven_ReturnsMatchingEntriesWithLabels()
    {
        await _client.PutStringAsync(_prefix + "a", "none");
        await _client.PutStringAsync(_prefix + "a", "dev", "d");
        await _client.PutStringAsync(_prefix + "b", "prod", "p");

        async Task<string> ListAsync(string? filter)
        {
            var items = new List<string>();
            await foreach (var item in _client.ListAsync(_prefix, filter, pageSize: 1))
            {
                items.Add($"{item.Key[_prefix.Length..]}:{item.Label}");
            }

            return string.Join(",", items);
        }

        Assert.Equal("a:,a:dev,b:prod", await ListAsync(null));
        Assert.Equal("a:,a:dev,b:prod", await ListAsync(AzKvLabels.Any));
        Assert.Equal("a:dev", await ListAsync("dev"));
        Assert.Equal("a:,b:prod", await ListAsync(AzKvLabels.Null + ",prod"));
    }

    [Fact]
    public async Task GetChangesAsync_WhenLabelFilterGiven_ReturnsOnlyThatLabelWithItsLabel()
    {
        var cursor = await _client.GetWatchCursorAsync(_prefix);
        await _client.PutStringAsync(_prefix + "w", "none");
        await _client.PutStringAsync(_prefix + "w", "dev", "d");

        var batch = await _client.GetChangesAsync(_prefix, "dev", cursor);

        var change = Assert.Single(batch.Changes);
        Assert.Equal(_prefix + "w", change.Key);
        Assert.Equal("dev", change.Label);
    }

    [Fact]
    public async Task WatchAsync_WhenLabelFilterIsTheNullLabel_YieldsOnlyUnlabelledChanges()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var cursor = await _client.GetWatchCursorAsync(_prefix);
        await _client.PutStringAsync(_prefix + "n", "dev", "d");
        await _client.PutStringAsync(_prefix + "n", "none");

        await foreach (var change in _client.WatchAsync(_prefix, AzKvLabels.Null, cursor, timeout.Token))
        {
            Assert.Equal(_prefix + "n", change.Key);
            Assert.Null(change.Label);
            break;
        }
    }

    [Fact]
    public async Task GetAsync_WhenLabelInvalid_ThrowsWithTheInvalidLabelProblem()
    {
        var error = await Assert.ThrowsAsync<AzKvException>(() => _client.GetAsync(_prefix + "x", "a*b"));

        Assert.Equal(400, error.Status);
        Assert.Equal(AzKvProblemTypes.InvalidLabel, error.ProblemType);
    }
}
