namespace AzKv.Partitions;

public sealed partial class PartitionOwner
{
    /// <summary>
    /// Graceful handoff: stop taking writes, drain the queue, mark the manifest ownerless and
    /// release the lease so the next owner starts at once.
    /// </summary>
    public async Task HandOverAsync(CancellationToken cancellationToken)
    {
        if (_stopReason is not null)
        {
            await Stopped.ConfigureAwait(false);
            return;
        }

        _queue.Writer.TryComplete();
        await _writerLoop.ConfigureAwait(false);
        await IgnoreFailuresAsync(_checkpointTask).ConfigureAwait(false);
        if (Interlocked.CompareExchange(ref _stopReason, "handed over", null) is not null)
        {
            await Stopped.ConfigureAwait(false);
            return;
        }

        try
        {
            await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var current = _manifest;
                if (_lease.IsValid && current.Manifest.Owner?.NodeId == _identity.NodeId)
                {
                    var written = await _manifests.TryReplaceAsync(
                        current.Manifest with { Owner = null, Updated = _time.GetUtcNow() }, current.ETag, cancellationToken).ConfigureAwait(false);
                    if (written is not null)
                    {
                        Volatile.Write(ref _manifest, written);
                    }
                }
            }
            finally
            {
                _manifestLock.Release();
            }
        }
        catch (Storage.BlobStorageException)
        {
            // The owner hint is advisory; releasing the lease is what matters.
        }
        finally
        {
            await _lease.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            await _stopping.CancelAsync().ConfigureAwait(false);
            PartitionLog.HandedOver(_logger, Partition);
            _stopped.TrySetResult();
        }
    }

    /// <summary>Stops serving at once (lease lost, fenced, storage gone). Idempotent.</summary>
    private void StepDown(string reason)
    {
        if (Interlocked.CompareExchange(ref _stopReason, reason, null) is not null)
        {
            return;
        }

        PartitionLog.SteppingDown(_logger, Partition, reason);
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        _ = FinishStepDownAsync();
    }

    private async Task FinishStepDownAsync()
    {
        await IgnoreFailuresAsync(_writerLoop).ConfigureAwait(false);
        await IgnoreFailuresAsync(_checkpointTask).ConfigureAwait(false);
        FailQueued();
        await _lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        _stopped.TrySetResult();
    }

    /// <summary>
    /// Stops at once as if the process died: no handoff, no lease release, no storage call. The
    /// lease stays until it expires or is broken. For crash tests.
    /// </summary>
    internal async Task AbandonAsync()
    {
        if (Interlocked.CompareExchange(ref _stopReason, "abandoned", null) is not null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        Volatile.Read(ref _lease).Abandon();
        await IgnoreFailuresAsync(_writerLoop).ConfigureAwait(false);
        await IgnoreFailuresAsync(_checkpointTask).ConfigureAwait(false);
        FailQueued();
        _stopped.TrySetResult();
    }

    /// <summary>Steps down the moment the lease is known lost (a renew was refused).</summary>
    private async Task WatchLeaseAsync()
    {
        while (_stopReason is null)
        {
            var lease = Volatile.Read(ref _lease);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, lease.Lost).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The lease we watched ended.
            }

            if (ReferenceEquals(lease, Volatile.Read(ref _lease)))
            {
                StepDown("the lease was lost");
                return;
            }

            // Rolled over to a new segment's lease: watch that one.
        }
    }

    /// <summary>Stops the owner (without handing over) and releases its resources. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StepDown("disposed");
        await Stopped.ConfigureAwait(false);
        await _lease.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _manifestLock.Dispose();
    }

    private static async Task IgnoreFailuresAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or Storage.BlobStorageException or PartitionStorageException or Wal.CorruptDataException)
        {
            // Already reported where it happened.
        }
    }
}
