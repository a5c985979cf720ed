using AzKv.Partitions;
using AzKv.Storage;

namespace AzKv.Cluster;

internal sealed partial class NodeSupervisor
{
    /// <summary>First wait after a failed iteration; it doubles with each failure in a row up to <see cref="MaxFailureBackoff"/>.</summary>
    private static readonly TimeSpan FirstFailureBackoff = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait after failed iterations: the partitions this node should serve stay unserved meanwhile.</summary>
    private static readonly TimeSpan MaxFailureBackoff = TimeSpan.FromSeconds(5);

    /// <summary>The membership view version <see cref="_ring"/> was computed from (only the loop touches it).</summary>
    private long _ringVersion = -1;

    /// <summary>
    /// Joins membership, then follows the ring until stopped. An iteration that fails for any
    /// reason (joining included) is logged and tried again after a backoff on the clock: only
    /// cancellation ends the loop, so a storage fault or a bug in one round never leaves this
    /// node's partitions unserved for good.
    /// </summary>
    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var joined = false;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!joined)
                {
                    await _membership!.StartAsync(cancellationToken).ConfigureAwait(false);
                    joined = true;
                }

                await FollowRingOnceAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = FailureBackoff(failures);
                NodeSupervisorLog.LoopFailed(_logger, failures, delay.TotalMilliseconds, ex);
                try
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static TimeSpan FailureBackoff(int failures) =>
        failures >= 6 ? MaxFailureBackoff : TimeSpan.FromTicks(Math.Min(MaxFailureBackoff.Ticks, FirstFailureBackoff.Ticks << (failures - 1)));

    /// <summary>
    /// One round: follows the membership view's ring (opens this node's partitions, hands over the
    /// others, re-opens stopped ones), then waits for a change of the view, an owner that stops,
    /// or the next poll (250 ms while a partition of this node is not open yet, else 5 s).
    /// </summary>
    private async Task FollowRingOnceAsync(CancellationToken cancellationToken)
    {
        var view = _membership!.View;
        if (view.Version != _ringVersion)
        {
            Volatile.Write(ref _ring, HashRing.Create(view.OwnerIds, _slots.Length));
            _ringVersion = view.Version;
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
        await Task.WhenAny(
            _membership.Changed,
            Task.WhenAny(stopped.DefaultIfEmpty(Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken))),
            Task.Delay(pending ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5), _time, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
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
            NodeSupervisorLog.HandOverFailed(_logger, slot.Partition, ex.Message);
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
                NodeSupervisorLog.Reopening(_logger, slot.Partition, previous.StopReason ?? "stopped");
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
            NodeSupervisorLog.PartitionCorrupt(_logger, slot.Partition, ex.Message);
        }
        catch (BlobStorageException ex)
        {
            NodeSupervisorLog.OpenFailed(_logger, slot.Partition, ex.Message);
        }
    }
}
