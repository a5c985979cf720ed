using System.Collections.Immutable;
using AzKv.Partitions;
using AzKv.Replication;

namespace AzKv.Cluster;

internal sealed partial class NodeSupervisor
{
    private ImmutableHashSet<string> _pausedSources = ImmutableHashSet.Create<string>(StringComparer.Ordinal);
    private ImmutableDictionary<string, SourceChangeMonitor> _monitors = ImmutableDictionary<string, SourceChangeMonitor>.Empty;

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
                    transport is IHubReplicationTransport hub && !c.Progress.Bootstrapping ? hub.TransportOf(c.Progress.Partition) : "blobtail"))
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

    /// <summary>One change monitor per source region (one listing per poll), shared by that source's consumers.</summary>
    private void StartMonitors()
    {
        var monitors = ImmutableDictionary.CreateBuilder<string, SourceChangeMonitor>(StringComparer.Ordinal);
        for (var i = 0; i < _replication.Transports.Length; i++)
        {
            var region = _replication.Transports[i].SourceRegion;
            var monitor = new SourceChangeMonitor(region, _replication.Sources[i], _replication.Options.PollInterval, _time, _logger);
            monitor.Start();
            if (_replication.Transports[i] is IHubReplicationTransport hub)
            {
                hub.Attach(monitor, _logger);
            }

            monitors[region] = monitor;
        }

        _monitors = monitors.ToImmutable();
    }

    private async Task DisposeMonitorsAsync()
    {
        foreach (var monitor in _monitors.Values)
        {
            await monitor.DisposeAsync().ConfigureAwait(false);
        }
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
}
