using AzKv.Storage;

namespace AzKv.Partitions;

public sealed partial class PartitionOwner
{
    /// <summary>
    /// Seals the active segment and continues in a new one of the same epoch (docs/fencing.md,
    /// "Rollover"). Runs on the writer loop, so no append is in flight. False when the owner had
    /// to step down.
    /// </summary>
    private async Task<bool> RollOverAsync()
    {
        await _manifestLock.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            var current = _manifest;
            var old = _lease;
            var nextLsn = _state.Lsn + 1;
            var epoch = current.Manifest.Epoch;

            await _store.SealAsync(old.BlobName, BlobConditions.WithLease(old.LeaseId), _stopping.Token).ConfigureAwait(false);

            var name = StorageLayout.Segment(Partition, epoch, nextLsn);
            var lease = await _leasing.CreateLeasedSegmentAsync(name, TakeoverMode.WaitForExpiry, _stopping.Token).ConfigureAwait(false);
            if (lease is null)
            {
                StepDown($"could not lease the new segment {name}");
                return false;
            }

            var segments = new List<ManifestSegment>(current.Manifest.Segments);
            segments[^1] = segments[^1] with
            {
                Sealed = true,
                Length = _segmentLength,
                EndLsn = nextLsn - 1,
                SealedAt = _time.GetUtcNow(),
            };
            segments.Add(new ManifestSegment { Name = name, Epoch = epoch, StartLsn = nextLsn });
            var written = await _manifests.TryReplaceAsync(
                current.Manifest with { Segments = segments, Updated = _time.GetUtcNow() }, current.ETag, _stopping.Token).ConfigureAwait(false);
            if (written is null)
            {
                await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                await lease.DisposeAsync().ConfigureAwait(false);
                StepDown("the manifest changed under us during rollover");
                return false;
            }

            Volatile.Write(ref _manifest, written);
            Volatile.Write(ref _lease, lease);
            _segmentLength = 0;
            Volatile.Write(ref _segmentBlocks, 0);
            await old.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
            await old.DisposeAsync().ConfigureAwait(false);
            PartitionLog.RolledOver(_logger, Partition, name, nextLsn);
            return true;
        }
        catch (BlobStorageException ex)
        {
            StepDown("rollover failed: " + ex.Message);
            return false;
        }
        finally
        {
            _manifestLock.Release();
        }
    }
}
