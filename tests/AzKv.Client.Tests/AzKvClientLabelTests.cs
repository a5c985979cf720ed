using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>The label overloads of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientLabelTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    private readonly string _prefix = "lbl-" + Guid.NewGuid().ToString("N")[..8] + "/";

    public AzKvClientLabelTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture)
    {
    }

    [Fact]
    public async Task PutStringAsync_WhenLabelsDiffer_EachLabelReadsItsOwnValue()
    {
        var key = _prefix + "color";
        await Client.PutStringAsync(key, "none");
        var dev = await Client.PutStringAsync(key, "dev", "blue");

        var entry = await Client.GetAsync(key, "dev");

        Assert.True(dev.Created);
        Assert.Equal("blue", entry!.GetString());
        Assert.Equal("dev", entry.Label);
        Assert.Equal(dev.ETag, entry.ETag);
        Assert.Equal("none", await Client.GetStringAsync(key));
        Assert.Null(await Client.GetStringAsync(key, "prod"));
    }

    [Fact]
    public async Task PutAsync_WhenCreateOnlyAndTheLabelExists_ThrowsPreconditionFailed()
    {
        var key = _prefix + "once";
        await Client.PutStringAsync(key, "dev", "1");

        await Assert.ThrowsAsync<AzKvPreconditionFailedException>(() => Client.PutStringAsync(key, "dev", "2", KvCondition.IfNoneMatch));
        Assert.NotNull(await Client.TryPutAsync(key, "prod", "3"u8.ToArray(), "text/plain", KvCondition.IfNoneMatch));
    }

    [Fact]
    public async Task DeleteAsync_WhenLabelled_LeavesTheOtherLabels()
    {
        var key = _prefix + "gone";
        await Client.PutStringAsync(key, "keep");
        await Client.PutStringAsync(key, "dev", "drop");

        Assert.True(await Client.DeleteAsync(key, "dev", ifMatch: null));
        Assert.False(await Client.DeleteAsync(key, "dev", ifMatch: null));
        Assert.Equal("keep", await Client.GetStringAsync(key));
    }

    [Fact]
    public async Task ListAsync_WhenLabelFilterGiven_ReturnsMatchingEntriesWithLabels()
    {
        await Client.PutStringAsync(_prefix + "a", "none");
        await Client.PutStringAsync(_prefix + "a", "dev", "d");
        await Client.PutStringAsync(_prefix + "b", "prod", "p");

        async Task<string> ListAsync(string? filter)
        {
            var items = new List<string>();
            await foreach (var item in Client.ListAsync(_prefix, filter, pageSize: 1))
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
        var cursor = await Client.GetWatchCursorAsync(_prefix);
        await Client.PutStringAsync(_prefix + "w", "none");
        await Client.PutStringAsync(_prefix + "w", "dev", "d");

        var batch = await Client.GetChangesAsync(_prefix, "dev", cursor);

        var change = Assert.Single(batch.Changes);
        Assert.Equal(_prefix + "w", change.Key);
        Assert.Equal("dev", change.Label);
    }

    [Fact]
    public async Task WatchAsync_WhenLabelFilterIsTheNullLabel_YieldsOnlyUnlabelledChanges()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var cursor = await Client.GetWatchCursorAsync(_prefix);
        await Client.PutStringAsync(_prefix + "n", "dev", "d");
        await Client.PutStringAsync(_prefix + "n", "none");

        await foreach (var change in Client.WatchAsync(_prefix, AzKvLabels.Null, cursor, timeout.Token))
        {
            Assert.Equal(_prefix + "n", change.Key);
            Assert.Null(change.Label);
            break;
        }
    }

    [Fact]
    public async Task GetAsync_WhenLabelInvalid_ThrowsWithTheInvalidLabelProblem()
    {
        var error = await Assert.ThrowsAsync<AzKvException>(() => Client.GetAsync(_prefix + "x", "a*b"));

        Assert.Equal(400, error.Status);
        Assert.Equal(AzKvProblemTypes.InvalidLabel, error.ProblemType);
    }
}
