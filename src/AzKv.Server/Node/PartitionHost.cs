using System.Collections.Immutable;
using AzKv.Cluster;
using AzKv.Keys;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Node;

/// <summary>
/// Keeps this node's share of the region's partitions: joins membership, computes the ring over
/// the live owner nodes, opens the partitions the ring gives this node, hands over the ones it no
/// longer gives it, re-opens any that stops, and on shutdown leaves membership and hands every
/// partition over. A single node owns all partitions.
/// </summary>
internal sealed partial class PartitionHost : IHostedService, IAsyncDisposable
{
    /// <summary>Changes each partition keeps for watchers.</summary>
    private const int ChangeFeedCapacity = 16_384;

    private readonly IBlobStore _store;
    private readonly NodeIdentity _node;
    private readonly PartitionOptions _options;
    private readonly MembershipOptions _membershipOptions;
    private readonly TimeProvider _time;
    private readonly ILogger<PartitionHost> _logger;
    private readonly HybridLogicalClock _clock;
    private readonly ManifestStore _manifests;
    private readonly ReplicationSetup _replication;
    private readonly CancellationTokenSource _stopping = new();
    private ImmutableHashSet<string> _pausedSources = ImmutableHashSet.Create<string>(StringComparer.Ordinal);
    private ImmutableDictionary<string, SourceChangeMonitor> _monitors = ImmutableDictionary<string, SourceChangeMonitor>.Empty;
    private PartitionSlot[] _slots = [];
    private Membership? _membership;
    private HashRing? _ring;
    private Task _supervisor = Task.CompletedTask;
    private int _disposed;

    public PartitionHost(
        IBlobStore store, NodeIdentity node, PartitionOptions options, MembershipOptions membershipOptions, ReplicationSetup replication, TimeProvider time, ILogger<PartitionHost> logger)
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

    /// <summary>The partition a key belongs to.</summary>
    public int PartitionOf(string key) => KeyHash.GetPartition(key, _slots.Length);

    /// <summary>The serving owner of a partition on this node, or null.</summary>
    public PartitionOwner? ServingOwner(int partition)
    {
        var owner = _slots[partition].Owner;
        return owner is { IsServing: true } ? owner : null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Cluster = await ClusterDocument.LoadOrCreateAsync(
            _store, _node.Region, _node.ConfiguredPartitionCount, _replication.ConflictPolicies, _time, cancellationToken).ConfigureAwait(false);
        _options.ConflictPolicies = Cluster.Policies;
        var monitors = ImmutableDictionary.CreateBuilder<string, SourceChangeMonitor>(StringComparer.Ordinal);
        for (var i = 0; i < _replication.Transports.Length; i++)
        {
            var region = _replication.Transports[i].SourceRegion;
            var monitor = new SourceChangeMonitor(region, _replication.Sources[i], _replication.Options.PollInterval, _time, _logger);
            monitor.Start();
            if (_replication.Transports[i] is AzKv.Storage.AzureBlob.EventHubs.EventHubsTransport hub)
            {
                hub.Attach(monitor, _logger);
            }

            monitors[region] = monitor;
        }

        _monitors = monitors.ToImmutable();
        _slots = Enumerable.Range(0, Cluster.PartitionCount).Select(p => new PartitionSlot(p, new ChangeFeed(ChangeFeedCapacity))).ToArray();
        HostLog.Starting(_logger, _node.NodeId, _node.Region, Cluster.PartitionCount);
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
                HostLog.HandOverFailed(_logger, -1, "leaving membership: " + ex.Message);
            }
        }

        await Task.WhenAll(_slots.Select(slot => HandOverAsync(slot, cancellationToken))).ConfigureAwait(false);
        HostLog.Stopped(_logger, _node.NodeId);
    }

    public async ValueTask DisposeAsync()
    {
        // Registered both as a singleton and as the hosted service: the container disposes it twice.
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

        foreach (var monitor in _monitors.Values)
        {
            await monitor.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>The conflict policies of the region (from cluster.json), once started.</summary>
    public ConflictPolicies ConflictPolicies => _options.ConflictPolicies;

    /// <summary>
    /// The source region a partition is still bootstrapping from (reading its whole log for the
    /// first time), or null. Local writes to such a partition are refused: a region started from
    /// scratch must learn its own past writes (their dots) from the others before it makes new ones.
    /// </summary>
    public string? CatchingUpWith(int partition) =>
        _slots[partition].Consumers.FirstOrDefault(c => c.Progress.Bootstrapping)?.SourceRegion;

    /// <summary>The regions this one replicates from.</summary>
    public IReadOnlyList<string> SourceRegions => [.. _replication.Transports.Select(t => t.SourceRegion)];

    /// <summary>
    /// Replication from each source region, over the partitions this node owns: the largest lag (null
    /// while a partition has applied nothing and is not caught up), whether every one is caught up.
    /// </summary>
    public IReadOnlyList<SourceReplicationStatus> ReplicationStatus()
    {
        var now = _time.GetUtcNow();
        var result = new List<SourceReplicationStatus>();
        foreach (var transport in _replication.Transports)
        {
            var progress = _slots.SelectMany(s => s.Consumers).Where(c => c.SourceRegion == transport.SourceRegion).Select(c => c.Progress).ToList();
            var lags = progress.Select(p => p.LagMilliseconds(now)).ToList();
            var partitions = _slots.SelectMany(s => s.Consumers).Where(c => c.SourceRegion == transport.SourceRegion)
                .Select(c => new SourcePartitionPosition(
                    c.Progress.Partition,
                    c.Progress.Position?.Lsn ?? 0,
                    c.Progress.Position?.HubSequence,
                    transport is AzKv.Storage.AzureBlob.EventHubs.EventHubsTransport hub && !c.Progress.Bootstrapping ? hub.TransportOf(c.Progress.Partition) : "blobtail"))
                .OrderBy(p => p.Partition)
                .ToList();
            result.Add(new SourceReplicationStatus(
                transport.SourceRegion,
                lags.Count == 0 || lags.Any(l => l is null) ? null : lags.Max(),
                progress.Count == 0 ? 0 : progress.Max(p => p.LastAppliedHlc),
                progress.Count,
                progress.Count > 0 && progress.All(p => p.CaughtUp && p.LastError is null),
                _pausedSources.Contains(transport.SourceRegion),
                progress.Select(p => p.LastError).FirstOrDefault(e => e is not null))
            {
                Transport = partitions.Count > 0 && partitions.All(p => p.Transport == "eventhubs") ? "eventhubs" : "blobtail",
                Positions = partitions,
            });
        }

        return result;
    }

    /// <summary>Stops applying a source region's writes on this node (until <see cref="ResumeReplication"/>), once the rounds in progress end; false for an unknown region.</summary>
    public async Task<bool> PauseReplicationAsync(string source, CancellationToken cancellationToken)
    {
        if (!_replication.Transports.Any(t => t.SourceRegion == source))
        {
            return false;
        }

        ImmutableInterlocked.Update(ref _pausedSources, set => set.Add(source));
        await Task.WhenAll(_slots.SelectMany(s => s.Consumers).Where(c => c.SourceRegion == source).Select(c => c.PauseAsync(cancellationToken))).ConfigureAwait(false);
        return true;
    }

    /// <summary>Resumes applying a source region's writes from the saved positions; false for an unknown region.</summary>
    public bool ResumeReplication(string source)
    {
        if (!_replication.Transports.Any(t => t.SourceRegion == source))
        {
            return false;
        }

        ImmutableInterlocked.Update(ref _pausedSources, set => set.Remove(source));
        foreach (var consumer in _slots.SelectMany(s => s.Consumers).Where(c => c.SourceRegion == source))
        {
            consumer.Resume();
        }

        return true;
    }

    private void StartReplication(PartitionSlot slot, PartitionOwner owner)
    {
        var consumers = ImmutableArray.CreateBuilder<ReplicationConsumer>(_replication.Transports.Length);
        foreach (var transport in _replication.Transports)
        {
            // The Event Hubs transport wakes its consumers itself (a hub read waits for events; on the
            // blob tail it defers to the source's monitor).
            var consumer = new ReplicationConsumer(
                owner, transport, _store, _replication.Options, _time, _logger,
                transport as IReplicationWakeSource ?? _monitors.GetValueOrDefault(transport.SourceRegion));
            if (_pausedSources.Contains(transport.SourceRegion))
            {
                _ = consumer.PauseAsync(CancellationToken.None); // not started yet: takes effect at once
            }

            consumer.Start();
            consumers.Add(consumer);
        }

        slot.Consumers = consumers.MoveToImmutable();
        if (_replication.Publisher is { } sink)
        {
            var publisher = new ReplicationPublisher(owner, slot.Feed, _store, _node.Region, sink, _time, _logger);
            publisher.Start();
            slot.Publisher = publisher;
        }
    }

    private static async Task StopReplicationAsync(PartitionSlot slot)
    {
        var consumers = slot.Consumers;
        slot.Consumers = [];
        if (slot.Publisher is { } publisher)
        {
            slot.Publisher = null;
            await publisher.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var consumer in consumers)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Follows the ring: opens this node's partitions, hands over the others, re-opens stopped ones.</summary>
    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _membership!.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        long ringVersion = -1;
        while (!cancellationToken.IsCancellationRequested)
        {
            var view = _membership.View;
            if (view.Version != ringVersion)
            {
                Volatile.Write(ref _ring, HashRing.Create(view.OwnerIds, _slots.Length));
                ringVersion = view.Version;
            }

            var ring = Ring!;
            var opening = new List<Task>();
            using var limiter = new SemaphoreSlim(8);
            foreach (var slot in _slots)
            {
                var mine = string.Equals(ring.Owners[slot.Partition], _node.NodeId, StringComparison.Ordinal);
                var owner = slot.Owner;
                if (!mine)
                {
                    // The ring moved it back (say, a paused owner beat again): the wait starts over next time.
                    slot.BusySince = null;
                }

                if (!mine && owner is not null && owner.StopReason is null && slot.HandOver is null)
                {
                    slot.HandOver = HandOverAsync(slot, CancellationToken.None);
                }
                else if (mine && slot.HandOver is null && slot.CorruptReason is null && (owner is null || owner.StopReason is not null))
                {
                    opening.Add(OpenLimitedAsync(slot, view, limiter, cancellationToken));
                }
            }

            await Task.WhenAll(opening).ConfigureAwait(false);

            var stopped = _slots.Select(s => s.Owner?.Stopped).OfType<Task>().Where(t => !t.IsCompleted);
            var pending = _slots.Any(s => string.Equals(ring.Owners[s.Partition], _node.NodeId, StringComparison.Ordinal)
                && s.CorruptReason is null && (s.Owner is null || s.Owner.StopReason is not null));
            try
            {
                await Task.WhenAny(
                    _membership.Changed,
                    Task.WhenAny(stopped.DefaultIfEmpty(Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken))),
                    Task.Delay(pending ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5), _time, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task OpenLimitedAsync(PartitionSlot slot, MembershipView view, SemaphoreSlim limiter, CancellationToken cancellationToken)
    {
        await limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await OpenAsync(slot, view, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            limiter.Release();
        }
    }

    private async Task HandOverAsync(PartitionSlot slot, CancellationToken cancellationToken)
    {
        var owner = slot.Owner;
        if (owner is null)
        {
            slot.HandOver = null;
            return;
        }

        try
        {
            await StopReplicationAsync(slot).ConfigureAwait(false);
            await owner.HandOverAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BlobStorageException or OperationCanceledException)
        {
            HostLog.HandOverFailed(_logger, slot.Partition, ex.Message);
        }
        finally
        {
            slot.Owner = null;
            slot.HandOver = null;
            await owner.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes a partition the ring gives this node. Waits for the holder's lease to be released or
    /// to expire, and breaks it only as <see cref="TakeoverPolicy"/> says: the holder is this node's
    /// own previous incarnation, or its lease has kept us out for longer than a lease duration. A
    /// holder that only missed heartbeats (a pause shorter than the lease) is not broken.
    /// </summary>
    private async Task OpenAsync(PartitionSlot slot, MembershipView view, CancellationToken cancellationToken)
    {
        try
        {
            if (slot.Owner is { } previous)
            {
                HostLog.Reopening(_logger, slot.Partition, previous.StopReason ?? "stopped");
                await StopReplicationAsync(slot).ConfigureAwait(false);
                await previous.DisposeAsync().ConfigureAwait(false);
                slot.Owner = null;
            }

            var holder = (await _manifests.ReadAsync(slot.Partition, cancellationToken).ConfigureAwait(false))?.Manifest.Owner;
            var now = _time.GetTimestamp();
            slot.BusySince ??= now;
            var mode = TakeoverPolicy.Choose(
                holderIsThisNode: holder?.NodeId == _node.NodeId,
                holderLooksDead: holder is not null && view.Find(holder.NodeId) is null,
                _time.GetElapsedTime(slot.BusySince.Value, now),
                _options.LeaseDuration);

            var result = await PartitionOwner.OpenAsync(
                slot.Partition, _store, new OwnerIdentity(_node.NodeId, _node.Region, _node.Endpoint), _options, mode, _time, _clock,
                _logger, cancellationToken, slot.Feed).ConfigureAwait(false);
            if (result.Status == OpenStatus.Opened)
            {
                slot.Owner = result.Owner;
                slot.BusySince = null;
                StartReplication(slot, result.Owner!);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex) when (ex is PartitionStorageException or AzKv.Wal.CorruptDataException)
        {
            // Not retried: serving would mean skipping committed records. An operator must act.
            slot.CorruptReason = ex.Message;
            HostLog.PartitionCorrupt(_logger, slot.Partition, ex.Message);
        }
        catch (BlobStorageException ex)
        {
            HostLog.OpenFailed(_logger, slot.Partition, ex.Message);
        }
    }
}

/// <summary>One partition on this node: its current owner (if any) and its change feed.</summary>
internal sealed class PartitionSlot
{
    private PartitionOwner? _owner;
    private ImmutableArray<ReplicationConsumer> _consumers = [];

    public PartitionSlot(int partition, ChangeFeed feed)
    {
        Partition = partition;
        Feed = feed;
    }

    public int Partition { get; }

    public ChangeFeed Feed { get; }

    /// <summary>Consumers of other regions' logs for this partition, while this node owns it.</summary>
    public ImmutableArray<ReplicationConsumer> Consumers
    {
        get => _consumers;
        set => ImmutableInterlocked.InterlockedExchange(ref _consumers, value);
    }

    /// <summary>The publisher of this partition's records to the region's event hub, while this node owns it (Event Hubs only).</summary>
    public ReplicationPublisher? Publisher { get; set; }

    /// <summary>Why the partition cannot be served (corrupt data), or null.</summary>
    public string? CorruptReason { get; set; }

    /// <summary>A handover in progress, or null.</summary>
    public Task? HandOver { get; set; }

    /// <summary>Monotonic time of the first attempt to open it that found it busy.</summary>
    public long? BusySince { get; set; }

    public PartitionOwner? Owner
    {
        get => Volatile.Read(ref _owner);
        set => Volatile.Write(ref _owner, value);
    }
}

/// <summary>Who this node is.</summary>
/// <param name="NodeId">Node id.</param>
/// <param name="Region">Region id.</param>
/// <param name="Endpoint">Advertised URL.</param>
/// <param name="Roles">Roles.</param>
/// <param name="ConfiguredPartitionCount">Partition count used if the cluster is new.</param>
internal sealed record NodeIdentity(string NodeId, string Region, string Endpoint, IReadOnlyList<string> Roles, int ConfiguredPartitionCount);

/// <summary>The regions this one replicates from, and how.</summary>
/// <param name="Transports">One transport per source region.</param>
/// <param name="Options">Consumer pacing.</param>
/// <param name="ConflictPolicies">The AzKv__ConflictPolicies setting (written to cluster.json when set).</param>
/// <param name="Sources">Each source region's storage, for the change monitor (same order as <paramref name="Transports"/>).</param>
/// <remarks><see cref="Publisher"/>: where this region's owners publish their records (its event hub), or null (blob tail only).</remarks>
internal sealed record ReplicationSetup(ImmutableArray<IReplicationTransport> Transports, ReplicationOptions Options, string? ConflictPolicies, ImmutableArray<IBlobStore> Sources)
{
    public IReplicationLogSink? Publisher { get; init; }
}

/// <summary>Replication from one source region, over the partitions this node owns.</summary>
internal sealed record SourceReplicationStatus(
    string Region, double? LagMilliseconds, long LastAppliedHlc, int Partitions, bool CaughtUp, bool Paused, string? LastError)
{
    /// <summary><c>eventhubs</c> when every partition of this node reads the source's event hub, else <c>blobtail</c>.</summary>
    public string Transport { get; init; } = "blobtail";

    /// <summary>Per partition: the last applied source LSN, hub sequence number and the path in use.</summary>
    public IReadOnlyList<SourcePartitionPosition> Positions { get; init; } = [];
}

/// <summary>Where one partition's consumer of a source stands.</summary>
internal sealed record SourcePartitionPosition(int Partition, long Lsn, long? HubSequence, string Transport);

internal static partial class HostLog
{
    [LoggerMessage(2000, LogLevel.Information, "Node {NodeId} starting in region {Region} with {Partitions} partitions.")]
    public static partial void Starting(ILogger logger, string nodeId, string region, int partitions);

    [LoggerMessage(2001, LogLevel.Information, "Node {NodeId} stopped; partitions handed over.")]
    public static partial void Stopped(ILogger logger, string nodeId);

    [LoggerMessage(2002, LogLevel.Warning, "Partition {Partition}: handing over failed: {Error}")]
    public static partial void HandOverFailed(ILogger logger, int partition, string error);

    [LoggerMessage(2003, LogLevel.Warning, "Partition {Partition}: re-opening after the owner stopped: {Reason}")]
    public static partial void Reopening(ILogger logger, int partition, string reason);

    [LoggerMessage(2004, LogLevel.Error, "Partition {Partition} is corrupt and will not be served: {Error}")]
    public static partial void PartitionCorrupt(ILogger logger, int partition, string error);

    [LoggerMessage(2005, LogLevel.Warning, "Partition {Partition}: opening failed, will retry: {Error}")]
    public static partial void OpenFailed(ILogger logger, int partition, string error);
}
