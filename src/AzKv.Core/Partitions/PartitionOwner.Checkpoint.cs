using AzKv.Storage;

namespace AzKv.Partitions;

public sealed partial class PartitionOwner
{
    /// <summary>Starts a background checkpoint when enough WAL was written since the last one.</summary>
    private void MaybeStartCheckpoint()
    {
        if (_bytesSinceCheckpoint < _options.CheckpointEveryBytes || !_checkpointTask.IsCompleted)
        {
            return;
        }

        _bytesSinceCheckpoint = 0;
        var snapshot = _state;
        _checkpointTask = Task.Run(() => WriteCheckpointAsync(snapshot, _stopping.Token));
    }

    /// <summary>
    /// Writes a checkpoint of the current state now and points the manifest at it (then applies
    /// retention). Returns the checkpoint's LSN, or null when the owner is stopping.
    /// </summary>
    public async Task<long?> CheckpointAsync(CancellationToken cancellationToken)
    {
        await _checkpointTask.ConfigureAwait(false);
        var snapshot = _state;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var task = WriteCheckpointAsync(snapshot, linked.Token);
        _checkpointTask = task;
        return await task.ConfigureAwait(false) ? snapshot.Lsn : null;
    }

    private async Task<bool> WriteCheckpointAsync(PartitionState snapshot, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _manifest).Manifest.Checkpoint?.Lsn >= snapshot.Lsn)
        {
            return true;
        }

        try
        {
            var bytes = CheckpointCodec.Serialize(Partition, snapshot);
            var name = StorageLayout.Checkpoint(Partition, snapshot.Lsn);
            try
            {
                await _store.PutBlockBlobAsync(
                    name, bytes, new BlobWriteOptions { ContentType = "application/octet-stream", Conditions = BlobConditions.IfNotExists }, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (BlobStorageException ex) when (ex.IsAlreadyExists)
            {
                // The same LSN was checkpointed before (same committed state): reuse it.
            }

            List<string> deletable;
            await _manifestLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var current = _manifest;
                if (current.Manifest.Checkpoint?.Lsn >= snapshot.Lsn)
                {
                    return true;
                }

                var now = _time.GetUtcNow();
                var kept = new List<ManifestSegment>(current.Manifest.Segments.Count);
                deletable = [];
                foreach (var segment in current.Manifest.Segments)
                {
                    var unneeded = segment.Sealed && segment.EndLsn <= snapshot.Lsn;
                    var pastRetention = segment.SealedAt is { } sealedAt && now - sealedAt >= _options.SegmentRetention;
                    if (unneeded && pastRetention)
                    {
                        deletable.Add(segment.Name);
                    }
                    else
                    {
                        kept.Add(segment);
                    }
                }

                if (current.Manifest.Checkpoint is { } previous && previous.Name != name)
                {
                    deletable.Add(previous.Name);
                }

                var updated = current.Manifest with
                {
                    Checkpoint = new ManifestCheckpoint(name, snapshot.Lsn, bytes.Length),
                    Segments = kept,
                    Updated = now,
                };
                var written = await _manifests.TryReplaceAsync(updated, current.ETag, cancellationToken).ConfigureAwait(false);
                if (written is null)
                {
                    StepDown("the manifest changed under us while recording a checkpoint");
                    return false;
                }

                Volatile.Write(ref _manifest, written);
            }
            finally
            {
                _manifestLock.Release();
            }

            PartitionMetrics.Checkpoints.Add(1, PartitionMetrics.Outcome("ok"));
            PartitionLog.CheckpointWritten(_logger, Partition, name, snapshot.Lsn, bytes.Length);

            // Only after the manifest stopped naming them.
            var deleted = 0;
            foreach (var blob in deletable)
            {
                try
                {
                    await _store.DeleteAsync(blob, default, cancellationToken).ConfigureAwait(false);
                    deleted++;
                }
                catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsTransient || ex.IsLeaseLost)
                {
                    // Already gone, or try again at the next checkpoint's sweep... it is unlisted, so log it.
                    PartitionLog.CheckpointFailed(_logger, Partition, $"could not delete {blob}: {ex.Message}");
                }
            }

            if (deleted > 0)
            {
                PartitionLog.RetentionDeleted(_logger, Partition, deleted);
            }

            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (BlobStorageException ex)
        {
            PartitionMetrics.Checkpoints.Add(1, PartitionMetrics.Outcome("error"));
            PartitionLog.CheckpointFailed(_logger, Partition, ex.Message);
            _bytesSinceCheckpoint = _options.CheckpointEveryBytes; // try again after the next batch
            return false;
        }
    }

    internal static async Task<PartitionState> LoadCheckpointAsync(
        IBlobStore store, int partition, ManifestCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        BlobDownload download;
        try
        {
            download = await store.DownloadAsync(checkpoint.Name, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
        {
            throw new PartitionStorageException($"Partition {partition}: the manifest names checkpoint {checkpoint.Name}, which does not exist.", ex);
        }

        if (download.Content.Length != checkpoint.Length)
        {
            throw new PartitionStorageException(
                $"Partition {partition}: checkpoint {checkpoint.Name} has {download.Content.Length} bytes; the manifest says {checkpoint.Length}.");
        }

        var state = CheckpointCodec.Deserialize(partition, checkpoint.Name, download.Content);
        if (state.Lsn != checkpoint.Lsn)
        {
            throw new PartitionStorageException(
                $"Partition {partition}: checkpoint {checkpoint.Name} holds LSN {state.Lsn}; the manifest says {checkpoint.Lsn}.");
        }

        return state;
    }
}
