using System.Diagnostics;
using AzKv.Client.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Client.Tests;

/// <summary>Watching with long polls, resuming and fault tolerance of <see cref="AzKvClient"/> against a real node.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvClientWatchTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public AzKvClientWatchTests(AzuriteFixture azurite, ServerFixture fixture)
        : base(azurite, fixture)
    {
    }

    [Fact]
    public async Task WatchAsync_WhenKeysChangeAfterTheCursor_YieldsEveryChangeInOrder()
    {
        var cursor = await Client.GetWatchCursorAsync("order/");
        var a = await Client.PutStringAsync("order/a", "1");
        var b = await Client.PutStringAsync("order/b", "22");
        await Client.DeleteAsync("order/a");
        await Client.PutStringAsync("other/ignored", "x");

        var changes = await TakeAsync(Client.WatchAsync("order/", cursor), 3);

        Assert.Equal(["order/a", "order/b", "order/a"], changes.Select(c => c.Key));
        Assert.Equal([KvChangeType.Put, KvChangeType.Put, KvChangeType.Delete], changes.Select(c => c.Type));
        Assert.Equal(a.ETag, changes[0].ETag);
        Assert.Equal(b.ETag, changes[1].ETag);
        Assert.Equal(2, changes[1].Size);
        Assert.Equal("text/plain; charset=utf-8", changes[1].ContentType);
        Assert.All(changes, c => Assert.False(string.IsNullOrEmpty(c.Cursor)));
    }

    [Fact]
    public async Task WatchAsync_WhenResumedFromTheLastChangesCursor_YieldsOnlyLaterChanges()
    {
        var cursor = await Client.GetWatchCursorAsync("resume/");
        await Client.PutStringAsync("resume/1", "x");
        var first = await TakeAsync(Client.WatchAsync("resume/", cursor), 1);
        await Client.PutStringAsync("resume/2", "x");
        await Client.PutStringAsync("resume/3", "x");

        var later = await TakeAsync(Client.WatchAsync("resume/", first[^1].Cursor), 2);

        Assert.Equal("resume/1", Assert.Single(first).Key);
        Assert.Equal(["resume/2", "resume/3"], later.Select(c => c.Key));
    }

    [Fact]
    public async Task WatchAsync_WhenStartedWithoutACursor_SeesChangesMadeAfterItStarted()
    {
        await Client.PutStringAsync("fromnow/before", "x");
        using var handler = new FaultInjectingHandler();
        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = [Server.Url], Handler = handler });
        var watch = TakeAsync(client.WatchAsync("fromnow/"), 1);

        // The first request takes "now"; once the long poll after it is sent, writes are "after".
        await WaitUntilAsync(() => handler.Requests.Count >= 2);
        await Client.PutStringAsync("fromnow/after", "x");

        var changes = await watch;
        Assert.Equal("fromnow/after", Assert.Single(changes).Key);
    }

    [Fact]
    public async Task WatchAsync_WhenTheConnectionFailsMidWatch_ResumesFromTheLastCursorWithoutMissingChanges()
    {
        var cursor = await Client.GetWatchCursorAsync("flaky/");
        await Client.PutStringAsync("flaky/1", "x");
        using var handler = new FaultInjectingHandler
        {
            // The 2nd and 3rd polls fail as if the node were down.
            Fault = (_, index) => index is 1 or 2 ? throw FaultInjectingHandler.ConnectionRefused() : null,
        };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            MaxRetries = 0,
        });
        var watch = TakeAsync(client.WatchAsync("flaky/", cursor), 3);
        await WaitUntilAsync(() => handler.Requests.Count >= 4);
        await Client.PutStringAsync("flaky/2", "x");
        await Client.PutStringAsync("flaky/3", "x");

        var changes = await watch;

        Assert.Equal(["flaky/1", "flaky/2", "flaky/3"], changes.Select(c => c.Key).Take(3));
        var polls = handler.Requests;
        Assert.Contains("cursor=", polls[1].Query, StringComparison.Ordinal);
        Assert.Equal(polls[1].Query, polls[2].Query);
        Assert.Equal(polls[1].Query, polls[3].Query);
    }

    [Fact]
    public async Task WatchAsync_WhenTheNodeAnswers503_BacksOffAndResumes()
    {
        var cursor = await Client.GetWatchCursorAsync("busy/");
        await Client.PutStringAsync("busy/1", "x");
        using var handler = new FaultInjectingHandler
        {
            Fault = (_, index) => index < 3 ? FaultInjectingHandler.Unavailable(TimeSpan.FromMilliseconds(50)) : null,
        };
        using var client = new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [Server.Url],
            Handler = handler,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            MaxRetries = 1,
        });

        var changes = await TakeAsync(client.WatchAsync("busy/", cursor), 1);

        Assert.Equal("busy/1", Assert.Single(changes).Key);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task WatchAsync_WhenTheCursorIsMalformed_ThrowsInvalidRequest()
    {
        var exception = await Assert.ThrowsAsync<AzKvException>(() => TakeAsync(Client.WatchAsync("bad/", "not-a-cursor"), 1));

        Assert.Equal(400, exception.Status);
        Assert.Equal(AzKvProblemTypes.InvalidRequest, exception.ProblemType);
    }

    [Fact]
    public async Task WatchAsync_WhenCancelled_StopsPromptly()
    {
        using var cancel = new CancellationTokenSource();
        var watch = TakeAsync(Client.WatchAsync("quiet/", cancellationToken: cancel.Token), 1);
        var stopwatch = Stopwatch.StartNew();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"The watch took {stopwatch.Elapsed} to stop.");
    }

    private static async Task<List<KvChange>> TakeAsync(IAsyncEnumerable<KvChange> watch, int count)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var changes = new List<KvChange>();
        await foreach (var change in watch.WithCancellation(deadline.Token))
        {
            changes.Add(change);
            if (changes.Count == count)
            {
                break;
            }
        }

        return changes;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < Deadline, "The condition did not hold before the deadline.");
            await Task.Delay(20);
        }
    }
}
