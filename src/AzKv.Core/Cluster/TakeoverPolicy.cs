using AzKv.Partitions;

namespace AzKv.Cluster;

/// <summary>
/// How a node takes a partition the ring gives it while another node's lease is on it: wait for
/// the lease to expire or be released, or break it.
/// </summary>
/// <remarks>
/// A break waits out the rest of the lease anyway (the old owner's read window must close), so it
/// never makes failover of a dead owner faster than waiting for expiry; what it does is end the
/// ownership of an owner that is still renewing. The failure detector declares a node dead after
/// a few missed heartbeats (6 s by default), far less than a lease (30 s): a GC pause or a SIGSTOP
/// of that length must not turn into a break and a lease-long outage. So a holder that merely
/// looks dead is waited for (its lease expires within one lease duration if it is really dead; a
/// kill -9 fails over within the lease plus one poll), and the lease is broken only when it has
/// kept us out for longer than a lease, i.e. something is still renewing it without letting go.
/// </remarks>
internal static class TakeoverPolicy
{
    /// <summary>
    /// Beyond a lease duration of waiting, how much longer before breaking a lease whose holder
    /// still looks alive: a handover in progress gets this long to finish.
    /// </summary>
    public static readonly TimeSpan StuckMargin = TimeSpan.FromSeconds(5);

    /// <summary>Chooses the takeover mode.</summary>
    /// <param name="holderIsThisNode">The manifest names this node: a previous incarnation of this process, certainly dead.</param>
    /// <param name="holderLooksDead">The failure detector has no recent heartbeat of the holder.</param>
    /// <param name="waitingFor">How long this node has been trying to take the partition (on the monotonic clock).</param>
    /// <param name="leaseDuration">The lease duration.</param>
    public static TakeoverMode Choose(bool holderIsThisNode, bool holderLooksDead, TimeSpan waitingFor, TimeSpan leaseDuration) =>
        holderIsThisNode
            || (holderLooksDead && waitingFor > leaseDuration)
            || waitingFor > leaseDuration + StuckMargin
            ? TakeoverMode.Break
            : TakeoverMode.WaitForExpiry;
}
