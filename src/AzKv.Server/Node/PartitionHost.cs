using System.Collections.Immutable;
using AzKv.Keys;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Node;

/// <summary>
/// Owns every partition of the region on this node (single-node mode): opens them at start,
/// re-opens any that stops (lease lost, storage trouble) while the node runs, routes a key to its
/// partition, and hands every partition over on shutdown.
/// </summary>
internal sealed partial class PartitionHost : IHostedService, IAsyncDisposable
{
    /// <summary>Changes each partition keeps for watchers.</summary>
    private const int ChangeFeedCapacity = 16_384;

    private readonly IBlobStore _store;
    private readonly NodeIdentity _node;
    private readonly PartitionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PartitionHost> _logger;
    private readonly HybridLogicalClock _clock;
    private readonly CancellationTokenSource _stopping = new();
    private PartitionSlot[] _slots = [];
    private Task _supervisor = Task.CompletedTask;
    private int _disposed;

    public PartitionHost(IBlobStore store, NodeIdentity node, PartitionOptions options, TimeProvider time, ILogger<PartitionHost> logger)
    {
        _store = store;
        _node = node;
        _options = options;
        _time = time;
        _logger = logger;
        _clock = new HybridLogicalClock(time);
    }

    /// <summary>Partitions in the region (from cluster.json).</summary>
    public int PartitionCount => _slots.Length;

    /// <summary>The region's cluster document, once started.</summary>
    public ClusterDocument? Cluster { get; private set; }

    /// <summary>True when every partition is owned here and serving.</summary>
    public bool IsReady => _slots.Length > 0 && _slots.All(s => s.Owner?.IsServing == true);

    /// <summary>The slots (owner and change feed per partition).</summary>
    public ImmutableArray<PartitionSlot> Slots => [.. _slots];

    /// <summary>The partition a key belongs to.</summary>
    public int PartitionOf(string key) => KeyHash.GetPartition(key, _slots.Length);

    /// <summary>The serving owner of a partition, or null while it has none.</summary>
    public PartitionOwner? ServingOwner(int partition)
    {
        var owner = _slots[partition].Owner;
        return owner is { IsServing: true } ? owner : null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Cluster = await ClusterDocument.LoadOrCreateAsync(_store, _node.Region, _node.ConfiguredPartitionCount, _time, cancellationToken).ConfigureAwait(false);
        _slots = Enumerable.Range(0, Cluster.PartitionCount).Select(p => new PartitionSlot(p, new ChangeFeed(ChangeFeedCapacity))).ToArray();
        HostLog.Starting(_logger, _node.NodeId, _node.Region, Cluster.PartitionCount);

        // Opening can wait a lease duration (a crashed predecessor's leases): do it in the
        // background so the HTTP server (healthz, readyz) is up meanwhile.
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

        // Hand every partition over so the next owner starts at once.
        await Task.WhenAll(_slots.Select(async slot =>
        {
            var owner = slot.Owner;
            if (owner is null)
            {
                return;
            }

            try
            {
                await owner.HandOverAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is BlobStorageException or OperationCanceledException)
            {
                HostLog.HandOverFailed(_logger, slot.Partition, ex.Message);
            }
        })).ConfigureAwait(false);
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
            if (slot.Owner is { } owner)
            {
                await owner.DisposeAsync().ConfigureAwait(false);
            }
        }

        _stopping.Dispose();
    }

    /// <summary>Keeps every partition owned: opens missing ones, re-opens stopped ones.</summary>
    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var firstRound = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            var pending = _slots.Where(s => s.CorruptReason is null && (s.Owner is null || s.Owner.StopReason is not null)).ToArray();
            if (pending.Length > 0)
            {
                // First try politely (a graceful predecessor released its leases); from the second
                // round on, break leases a crashed predecessor left behind.
                var mode = firstRound ? TakeoverMode.WaitForExpiry : TakeoverMode.Break;
                using var limiter = new SemaphoreSlim(8);
                await Task.WhenAll(pending.Select(async slot =>
                {
                    await limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        await OpenAsync(slot, mode, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        limiter.Release();
                    }
                })).ConfigureAwait(false);
                firstRound = false;
            }

            var stopped = _slots.Select(s => s.Owner?.Stopped ?? Task.CompletedTask).Where(t => !t.IsCompleted).ToList();
            var anyMissing = _slots.Any(s => s.CorruptReason is null && (s.Owner is null || s.Owner.StopReason is not null));
            var wait = anyMissing ? Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken) : Task.WhenAny(stopped);
            try
            {
                await Task.WhenAny(wait, Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task OpenAsync(PartitionSlot slot, TakeoverMode mode, CancellationToken cancellationToken)
    {
        try
        {
            if (slot.Owner is { } previous)
            {
                HostLog.Reopening(_logger, slot.Partition, previous.StopReason ?? "stopped");
                await previous.DisposeAsync().ConfigureAwait(false);
                slot.Owner = null;
            }

            var result = await PartitionOwner.OpenAsync(
                slot.Partition, _store, new OwnerIdentity(_node.NodeId, _node.Region, _node.Endpoint), _options, mode, _time, _clock,
                _logger, cancellationToken, slot.Feed).ConfigureAwait(false);
            if (result.Status == OpenStatus.Opened)
            {
                slot.Owner = result.Owner;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (PartitionStorageException ex)
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

    public PartitionSlot(int partition, ChangeFeed feed)
    {
        Partition = partition;
        Feed = feed;
    }

    public int Partition { get; }

    public ChangeFeed Feed { get; }

    /// <summary>Why the partition cannot be served (corrupt data), or null.</summary>
    public string? CorruptReason { get; set; }

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
