using System.Text;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Testing;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Replication;

public sealed class AntiEntropySchedulerTests : IAsyncLifetime
{
    private readonly List<PartitionOwner> _owners = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owner in _owners)
        {
            await owner.DisposeAsync();
        }
    }

    [Fact]
    public async Task Start_WhenTheIntervalPasses_VerifiesEveryPeerAndKeepsTheLastResult()
    {
        var (a, b) = (await OpenAsync("a"), await OpenAsync("b"));
        Assert.Equal(WriteStatus.Committed, (await a.WriteAsync(new WriteCommand { Key = "x", Value = "1"u8.ToArray() }, CancellationToken.None)).Status);
        var time = new ManualTimeProvider();
        await using var scheduler = new AntiEntropyScheduler([new InProcessAntiEntropyPeer("a", _ => a.State)], () => [b], TimeSpan.FromMinutes(10), time, NullLogger.Instance);

        scheduler.Start();
        await WaitAsync(() => time.ActiveTimerCount > 0);
        time.Advance(TimeSpan.FromMinutes(9));
        await Task.Delay(100);
        Assert.Empty(scheduler.LastResults); // not yet
        time.Advance(TimeSpan.FromMinutes(1));
        await WaitAsync(() => scheduler.LastResults.ContainsKey("a"));

        var result = scheduler.LastResults["a"];
        Assert.Equal("repaired", result.Outcome);
        Assert.Equal(1, result.RepairedKeys);
        Assert.Equal(ManualTimeProvider.DefaultStartTime + TimeSpan.FromMinutes(10), result.Started);
        Assert.Equal("1", Encoding.UTF8.GetString(b.State.Get("x")!.Winner!.Value.Span));
    }

    [Fact]
    public async Task VerifyAsync_WhenTheRegionIsNotAPeer_ReturnsNull()
    {
        var b = await OpenAsync("b");
        await using var scheduler = new AntiEntropyScheduler([new InProcessAntiEntropyPeer("a", _ => null)], () => [b], TimeSpan.Zero, TimeProvider.System, NullLogger.Instance);

        Assert.Null(await scheduler.VerifyAsync("nowhere", CancellationToken.None));
        var failed = await scheduler.VerifyAsync("a", CancellationToken.None);
        Assert.Equal("failed", failed!.Outcome);
        Assert.Same(failed, scheduler.LastResults["a"]);
    }

    [Fact]
    public async Task DisposeAsync_WhenCalledTwice_DoesNotThrow()
    {
        // The host stops the service (StopAsync) and the container disposes it: a graceful stop used to exit with 1.
        var b = await OpenAsync("b");
        var scheduler = new AntiEntropyScheduler([new InProcessAntiEntropyPeer("a", _ => null)], () => [b], TimeSpan.FromMinutes(10), TimeProvider.System, NullLogger.Instance);

        await scheduler.DisposeAsync();
        await scheduler.DisposeAsync();
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }

    private async Task<PartitionOwner> OpenAsync(string region)
    {
        var store = new InMemoryBlobStore("azkv-" + region, TimeProvider.System);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        var options = ReplicationTestOptions.Partition();
        var result = await PartitionOwner.OpenAsync(
            0, store, new OwnerIdentity(region + "-node", region, null), options, TakeoverMode.Break, TimeProvider.System,
            new HybridLogicalClock(TimeProvider.System), NullLogger.Instance, CancellationToken.None);
        Assert.Equal(OpenStatus.Opened, result.Status);
        _owners.Add(result.Owner!);
        return result.Owner!;
    }
}
