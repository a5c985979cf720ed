using System.Collections.Immutable;
using AzKv.Keys;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;

namespace AzKv.Cluster;

/// <summary>
/// Keeps this node's share of the region's partitions: reads (or creates) <c>cluster.json</c>,
/// joins membership, computes the ring over the live owner nodes, opens the partitions the ring
/// gives this node, hands over the ones it no longer gives it, re-opens any that stops, runs the
/// replication consumers and publisher of each partition it owns, and on shutdown leaves
/// membership and hands every partition over. A single node owns all partitions.
/// </summary>
/// <remarks>
/// Split by concern: following the ring and taking or handing over partitions
/// (<c>NodeSupervisor.Ownership.cs</c>), replication per owned partition, pause/resume and status
/// (<c>NodeSupervisor.Replication.cs</c>). Every wait is on the <see cref="TimeProvider"/>, so the
/// break-or-wait policy runs under a fake clock in tests. The server runs it as a hosted service.
/// </remarks>
internal sealed partial class NodeSupervisor : IAsyncDisposable
{
    /// <summary>Changes each partition keeps for watchers.</summary>
    private const int ChangeFeedCapacity = 16_384;

    private readonly IBlobStore _store;
    private readonly NodeIdentity _node;
    private readonly PartitionOptions _options;
    private readonly MembershipOptions _membershipOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HybridLogicalClock _clock;
    private readonly ManifestStore _manifests;
    private readonly ReplicationSetup _replication;
    private readonly CancellationTokenSource _stopping = new();
    private PartitionSlot[] _slots = [];
    private Membership? _membership;
    private HashRing? _ring;
    private Task _supervisor = Task.CompletedTask;
    private int _disposed;

    public NodeSupervisor(
        IBlobStore store, NodeIdentity node, PartitionOptions options, MembershipOptions membershipOptions, ReplicationSetup replication, TimeProvider time, ILogger<NodeSupervisor> logger)
    {
        _replication = replication;
        _store = store;
        _node = node;
        _options = options;
        _membershipOptions = membershipOptions;
        _time = time;
        _logger = logger;
        _clock = new HybridLogicalClock(time);
        _manifests = new ManifestStore(store);
    }

    /// <summary>Partitions in the region (from cluster.json).</summary>
    public int PartitionCount => _slots.Length;

    /// <summary>This node.</summary>
    public NodeIdentity Node => _node;

    /// <summary>The region's cluster document, once started.</summary>
    public ClusterDocument? Cluster { get; private set; }

    /// <summary>The live members as this node sees them.</summary>
    public MembershipView? Members => _membership?.View;

    /// <summary>The ring this node currently follows.</summary>
    public HashRing? Ring => Volatile.Read(ref _ring);

    /// <summary>True when this node serves every partition the ring gives it (and has joined).</summary>
    public bool IsReady
    {
        get
        {
            var ring = Ring;
            if (ring is null || _slots.Length == 0)
            {
                return false;
            }

            return ring.PartitionsOf(_node.NodeId).All(p => _slots[p].Owner?.IsServing == true && CatchingUpWith(p) is null);
        }
    }

    /// <summary>The slots (owner and change feed per partition).</summary>
    public ImmutableArray<PartitionSlot> Slots => [.. _slots];

    /// <summary>The conflict policies of the region (from cluster.json), once started.</summary>
    public ConflictPolicies ConflictPolicies => _options.ConflictPolicies;

    /// <summary>The partition a key belongs to.</summary>
    public int PartitionOf(string key) => KeyHash.GetPartition(key, _slots.Length);

    /// <summary>The serving owner of a partition on this node, or null.</summary>
    public PartitionOwner? ServingOwner(int partition)
    {
        var owner = _slots[partition].Owner;
        return owner is { IsServing: true } ? owner : null;
    }

    /// <summary>
    /// Reads or creates cluster.json (a region mismatch throws: a startup error), starts the source
    /// monitors, and starts following the ring in the background.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Cluster = await ClusterDocument.LoadOrCreateAsync(
            _store, _node.Region, _node.ConfiguredPartitionCount, _replication.ConflictPolicies, _time, cancellationToken).ConfigureAwait(false);
        _options.ConflictPolicies = Cluster.Policies;
        StartMonitors();
        _slots = Enumerable.Range(0, Cluster.PartitionCount).Select(p => new PartitionSlot(p, new ChangeFeed(ChangeFeedCapacity))).ToArray();
        NodeSupervisorLog.Starting(_logger, _node.NodeId, _node.Region, Cluster.PartitionCount);
        var self = new MemberRecord
        {
            NodeId = _node.NodeId,
            Endpoint = _node.Endpoint,
            Roles = _node.Roles,
            Started = _time.GetUtcNow(),
        };
        _membership = new Membership(_store, self, _membershipOptions, _time, _logger);

        // Joining watches one heartbeat and opening can wait for a crashed predecessor's leases:
        // both run in the background so the HTTP server (healthz, readyz) is up meanwhile.
        _supervisor = Task.Run(() => SuperviseAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops following the ring, leaves membership, then hands every partition over.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _supervisor.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected.
        }

        // Leave first, so the others stop routing here and start taking over; then hand over,
        // releasing every lease so they get each partition at once.
        if (_membership is not null)
        {
            try
            {
                await _membership.LeaveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is BlobStorageException or OperationCanceledException)
            {
                NodeSupervisorLog.HandOverFailed(_logger, -1, "leaving membership: " + ex.Message);
            }
        }

        await Task.WhenAll(_slots.Select(slot => HandOverAsync(slot, cancellationToken))).ConfigureAwait(false);
        NodeSupervisorLog.Stopped(_logger, _node.NodeId);
    }

    public async ValueTask DisposeAsync()
    {
        // Idempotent: a second call (say, the container after a test disposed it) does nothing.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var slot in _slots)
        {
            await StopReplicationAsync(slot).ConfigureAwait(false);
            if (slot.Owner is { } owner)
            {
                await owner.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_membership is not null)
        {
            await _membership.DisposeAsync().ConfigureAwait(false);
        }

        await DisposeMonitorsAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
