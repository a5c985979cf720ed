using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Partitions;

/// <summary>Breaking a lease on takeover: bounded by one lease duration (plus the stuck margin) of waiting.</summary>
public sealed partial class InMemoryPartitionOwnerTests
{
    [Fact]
    public async Task OpenAsync_WhenAnotherNodeRetakesTheLeaseAfterEveryBreak_ReturnsBusyWithinALeaseAndTheMargin()
    {
        var ct = CancellationToken.None;
        var holder = await OpenAsync("node-a");
        var segment = holder.Manifest.Active!.Name;
        var started = _clock.GetTimestamp();

        var open = PartitionOwner.OpenAsync(
            PartitionId, Store, new OwnerIdentity("node-b", "r1", null), Options, TakeoverMode.Break, Time,
            new HybridLogicalClock(Time), NullLogger.Instance, ct);

        // A competitor (node-c) takes the lease each time a break ends, before node-b looks again
        // (node-b waits the break period plus 100 ms; the clock moves 50 ms at a time).
        var retaken = 0;
        for (var i = 0; i < 4000 && !open.IsCompleted; i++)
        {
            await Task.WhenAny(open, Task.Delay(1));
            var properties = await Store.GetPropertiesAsync(segment, default, ct);
            if (properties.LeaseState is LeaseState.Broken or LeaseState.Expired)
            {
                await Store.AcquireLeaseAsync(segment, Options.LeaseDuration, Guid.NewGuid().ToString(), default, ct);
                retaken++;
            }

            _clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.True(open.IsCompleted, "the takeover was still waiting after 200 s of fake time");
        var result = await open;
        var waited = _clock.GetElapsedTime(started);
        Assert.Equal(OpenStatus.Busy, result.Status);
        Assert.True(retaken >= 1, "the competitor never took the lease: the scenario did not happen");
        Assert.True(
            waited <= Options.LeaseDuration + AzKv.Cluster.TakeoverPolicy.StuckMargin + TimeSpan.FromSeconds(1),
            $"a Break takeover waited {waited.TotalSeconds:0.0} s before giving up (lease {Options.LeaseDuration.TotalSeconds:0} s)");
        await holder.DisposeAsync();
    }
}
