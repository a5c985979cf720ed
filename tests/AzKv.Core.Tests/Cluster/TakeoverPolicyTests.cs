using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Testing;

namespace AzKv.Core.Tests.Cluster;

public sealed class TakeoverPolicyTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(30)]
    public void Choose_WhenTheHolderLooksDeadForLessThanALease_WaitsForExpiryInsteadOfBreaking(int seconds)
    {
        // A paused owner (GC, SIGSTOP) misses heartbeats but keeps its lease; breaking it would be a lease-long outage.
        Assert.Equal(TakeoverMode.WaitForExpiry, TakeoverPolicy.Choose(holderIsThisNode: false, holderLooksDead: true, TimeSpan.FromSeconds(seconds), Lease));
    }

    [Fact]
    public void Choose_WhenTheLeaseKeptUsOutForLongerThanALeaseAndMargin_Breaks()
    {
        Assert.Equal(TakeoverMode.Break, TakeoverPolicy.Choose(false, holderLooksDead: false, Lease + TakeoverPolicy.StuckMargin + TimeSpan.FromSeconds(1), Lease));
        Assert.Equal(TakeoverMode.Break, TakeoverPolicy.Choose(false, holderLooksDead: true, Lease + TimeSpan.FromSeconds(1), Lease));
    }

    [Fact]
    public void Choose_WhenTheHolderIsThisNodesPreviousIncarnation_Breaks()
    {
        Assert.Equal(TakeoverMode.Break, TakeoverPolicy.Choose(holderIsThisNode: true, holderLooksDead: true, TimeSpan.Zero, Lease));
    }

    [Fact]
    public async Task OpenAsync_WhenTheOwnerPausesForLessThanTheLease_NoTakeoverAndAKilledOwnerFailsOverWithinTheLease()
    {
        var clock = new ManualTimeProvider();
        var store = new InMemoryBlobStore("azkv", clock);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        var options = new PartitionOptions { LeaseDuration = Lease, LeaseRenewInterval = TimeSpan.FromSeconds(10), LeaseSafetyMargin = TimeSpan.FromSeconds(5) };
        var a = (await OpenAsync(store, clock, options, "node-a", TakeoverMode.Break)).Owner!;
        var renewals = store.Faults.GetCallCount(BlobOperation.RenewLease);

        // node-a is paused for 8 s (no renewals, no heartbeats): node-b, given the partition by a
        // failure detector that declared node-a dead after 6 s, polls every 250 ms with the policy.
        store.Faults.AddLatency(BlobOperation.RenewLease, TimeSpan.FromSeconds(8));
        var waited = TimeSpan.Zero;
        while (waited < TimeSpan.FromSeconds(8))
        {
            var mode = TakeoverPolicy.Choose(false, holderLooksDead: waited >= TimeSpan.FromSeconds(6), waited, Lease);
            var attempt = await OpenAsync(store, clock, options, "node-b", mode);
            Assert.Equal(OpenStatus.Busy, attempt.Status);
            clock.Advance(TimeSpan.FromMilliseconds(250));
            waited += TimeSpan.FromMilliseconds(250);
        }

        store.Faults.Clear();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (store.Faults.GetCallCount(BlobOperation.RenewLease) == renewals || !a.IsServing)
        {
            Assert.True(DateTime.UtcNow < deadline, "node-a did not renew after its pause");
            clock.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(5);
        }

        Assert.True(a.IsServing);
        Assert.Null(a.StopReason);

        // Now node-a dies (kill -9): node-b gets in once the lease expires, within the lease duration.
        await a.AbandonAsync();
        var sinceKill = TimeSpan.Zero;
        while (true)
        {
            var mode = TakeoverPolicy.Choose(false, holderLooksDead: sinceKill >= TimeSpan.FromSeconds(6), sinceKill, Lease);
            var attempt = await OpenAsync(store, clock, options, "node-b", mode, pump: true);
            if (attempt.Status == OpenStatus.Opened)
            {
                await attempt.Owner!.DisposeAsync();
                break;
            }

            clock.Advance(TimeSpan.FromMilliseconds(250));
            sinceKill += TimeSpan.FromMilliseconds(250);
        }

        Assert.True(sinceKill <= Lease, $"failover took {sinceKill}");
        await a.DisposeAsync();
    }

    private static async Task<OpenResult> OpenAsync(InMemoryBlobStore store, ManualTimeProvider clock, PartitionOptions options, string node, TakeoverMode mode, bool pump = true)
    {
        var open = PartitionOwner.OpenAsync(
            7, store, new OwnerIdentity(node, "r1", null), options, mode, clock, new AzKv.Versioning.HybridLogicalClock(clock),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        for (var i = 0; pump && i < 1000 && !open.IsCompleted; i++)
        {
            await Task.WhenAny(open, Task.Delay(1));
            if (!open.IsCompleted)
            {
                clock.Advance(TimeSpan.FromMilliseconds(250));
            }
        }

        return await open;
    }
}
