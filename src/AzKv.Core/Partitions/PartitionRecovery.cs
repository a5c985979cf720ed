using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

/// <summary>What a takeover hands to the new owner: the manifest it wrote, the new segment's lease, and the recovered state.</summary>
/// <param name="Manifest">The manifest naming this node, with the new (empty, leased) active segment.</param>
/// <param name="Lease">The lease on the new active segment.</param>
/// <param name="State">The state at the end of the log (checkpoint plus replayed records).</param>
/// <param name="Replayed">The changes replayed after the checkpoint, in LSN order (to seed the change feed).</param>
internal sealed record RecoveredPartition(VersionedManifest Manifest, SegmentLease Lease, PartitionState State, IReadOnlyList<Change> Replayed);

/// <summary>
/// Takes over one partition and recovers its state (docs/fencing.md, "Takeover"): leases the old
/// active segment (waiting, or breaking as told), scans its tail, seals it, leases a new segment,
/// commits with the manifest CAS, then loads the checkpoint and replays every record after it.
/// </summary>
/// <remarks>Split by concern: the takeover and replay here, the segment scan in <c>PartitionRecovery.Scan.cs</c>.</remarks>
internal sealed partial class PartitionRecovery
{
    private readonly int _partition;
    private readonly IBlobStore _store;
    private readonly ManifestStore _manifests;
    private readonly OwnerIdentity _identity;
    private readonly PartitionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SegmentLeasing _leasing;

    public PartitionRecovery(int partition, IBlobStore store, OwnerIdentity identity, PartitionOptions options, SegmentLeasing leasing, TimeProvider time, ILogger logger)
    {
        _partition = partition;
        _store = store;
        _manifests = new ManifestStore(store);
        _identity = identity;
        _options = options;
        _leasing = leasing;
        _time = time;
        _logger = logger;
    }

    private enum TakeoverStatus
    {
        Done,
        Busy,
        Raced,
    }

    /// <summary>
    /// Takes the partition over and recovers its state; null when another node holds it (busy, or
    /// it kept winning races). Throws <see cref="PartitionStorageException"/> or
    /// <see cref="Wal.CorruptDataException"/> when stored data is corrupt and
    /// <see cref="BlobStorageException"/> when storage fails unexpectedly; the new lease is released
    /// on every failure.
    /// </summary>
    public async Task<RecoveredPartition?> RecoverAsync(TakeoverMode mode, CancellationToken cancellationToken)
    {
        // A few rounds: a lost race with another takeover starts over with the fresh manifest.
        for (var round = 0; round < 5; round++)
        {
            var current = await _manifests.ReadAsync(_partition, cancellationToken).ConfigureAwait(false)
                ?? await CreateInitialManifestAsync(cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                continue;
            }

            var attempt = await TryTakeOverAsync(current, mode, cancellationToken).ConfigureAwait(false);
            if (attempt.Status == TakeoverStatus.Busy)
            {
                return null;
            }

            if (attempt.Status == TakeoverStatus.Raced)
            {
                continue;
            }

            var lease = attempt.NewLease!;
            try
            {
                var (state, replayed) = await ReplayAsync(attempt.Manifest!.Manifest, attempt.ScannedTail, cancellationToken).ConfigureAwait(false);
                return new RecoveredPartition(attempt.Manifest, lease, state, replayed);
            }
            catch
            {
                await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                await lease.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return null;
    }

    private async Task<VersionedManifest?> CreateInitialManifestAsync(CancellationToken cancellationToken)
    {
        var initial = new PartitionManifest
        {
            Partition = _partition,
            Epoch = 0,
            Segments = [],
            Updated = _time.GetUtcNow(),
        };
        return await _manifests.TryCreateAsync(initial, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TakeoverAttempt> TryTakeOverAsync(VersionedManifest current, TakeoverMode mode, CancellationToken cancellationToken)
    {
        var manifest = current.Manifest;
        var segments = new List<ManifestSegment>(manifest.Segments);
        SegmentLease? oldLease = null;
        SegmentLease? newLease = null;
        var done = false;
        ScannedSegment? scanned = null;
        try
        {
            var active = manifest.Active;
            if (active is not null)
            {
                // 1. Lease the old active segment (the mutex of competing takeovers).
                oldLease = await _leasing.AcquireOrBreakAsync(active.Name, mode, cancellationToken).ConfigureAwait(false);
                if (oldLease is null)
                {
                    return new TakeoverAttempt(TakeoverStatus.Busy);
                }

                // 2. Someone may have completed a takeover between our read and our lease.
                var reread = await _manifests.ReadAsync(_partition, cancellationToken).ConfigureAwait(false);
                if (reread is null || reread.ETag != current.ETag)
                {
                    return new TakeoverAttempt(TakeoverStatus.Raced);
                }

                // 3. Read the tail: the valid prefix ends at the first torn or corrupt record.
                scanned = await ScanSegmentAsync(active, length: null, cancellationToken).ConfigureAwait(false);

                // 4. Seal it: nothing can be appended after the length we record.
                await _store.SealAsync(active.Name, BlobConditions.WithLease(oldLease.LeaseId), cancellationToken).ConfigureAwait(false);
                segments[^1] = active with
                {
                    Sealed = true,
                    Length = scanned.ValidLength,
                    EndLsn = scanned.LastLsn,
                    SealedAt = _time.GetUtcNow(),
                };
            }

            // 5. The next segment, leased before the manifest names it.
            var nextLsn = segments.Count == 0 ? 1 : segments[^1].EndLsn!.Value + 1;
            var epoch = manifest.Epoch + 1;
            var name = StorageLayout.Segment(_partition, epoch, nextLsn);
            try
            {
                newLease = await _leasing.CreateLeasedSegmentAsync(name, mode, cancellationToken).ConfigureAwait(false);
            }
            catch (PartitionStorageException)
            {
                // A non-empty next segment may be a competing takeover's, already in use: with no
                // active segment (a new partition) no lease serialises takeovers, and a takeover that
                // stalled longer than its lease on the old segment can be overtaken. Only if the
                // manifest is still the one we read is it an orphan someone wrote to (corruption).
                var reread = await _manifests.ReadAsync(_partition, cancellationToken).ConfigureAwait(false);
                if (reread is not null && reread.ETag != current.ETag)
                {
                    return new TakeoverAttempt(TakeoverStatus.Raced);
                }

                throw;
            }

            if (newLease is null)
            {
                return new TakeoverAttempt(TakeoverStatus.Busy);
            }

            segments.Add(new ManifestSegment { Name = name, Epoch = epoch, StartLsn = nextLsn });

            // 6. Commit point: the manifest CAS.
            var updated = manifest with
            {
                Epoch = epoch,
                Owner = new ManifestOwner(_identity.NodeId, _identity.Endpoint),
                Segments = segments,
                Updated = _time.GetUtcNow(),
            };
            var written = await _manifests.TryReplaceAsync(updated, current.ETag, cancellationToken).ConfigureAwait(false);
            if (written is null)
            {
                return new TakeoverAttempt(TakeoverStatus.Raced);
            }

            done = true;
            return new TakeoverAttempt(TakeoverStatus.Done, written, newLease, scanned);
        }
        finally
        {
            if (newLease is not null && !done)
            {
                // Lost race, or the manifest CAS failed or got no answer (it may have landed and
                // named this segment active): nothing was appended to it, so release it on every
                // path and the next owner gets in at once instead of waiting for a break.
                await newLease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                await newLease.DisposeAsync().ConfigureAwait(false);
            }

            if (oldLease is not null)
            {
                // 7. The old segment is sealed (or we lost): its lease protects nothing now.
                await oldLease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                await oldLease.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Recovers the state: the manifest's checkpoint, then every record after it, segment by
    /// segment, each only up to its recorded length.
    /// </summary>
    private async Task<(PartitionState State, List<Change> Replayed)> ReplayAsync(
        PartitionManifest manifest, ScannedSegment? scannedTail, CancellationToken cancellationToken)
    {
        var partition = _partition;
        var policies = _options.ConflictPolicies;
        var state = PartitionState.Empty;
        if (manifest.Checkpoint is { } checkpoint)
        {
            state = await PartitionOwner.LoadCheckpointAsync(_store, partition, checkpoint, cancellationToken).ConfigureAwait(false);
        }

        var changes = new Dictionary<string, SiblingSet>(StringComparer.Ordinal);
        var replayed = new List<Change>();
        var keyed = new List<IdempotencyEntry>();
        var writers = new Dictionary<string, LastWrite?>(StringComparer.Ordinal);
        var lsn = state.Lsn;
        foreach (var segment in manifest.Segments)
        {
            if (!segment.Sealed)
            {
                continue; // the new, empty active segment
            }

            if (segment.EndLsn <= lsn || segment.Length == 0)
            {
                continue; // entirely covered by the checkpoint, or empty
            }

            var scanned = scannedTail is not null && scannedTail.Name == segment.Name
                ? scannedTail
                : await ScanSegmentAsync(segment, segment.Length, cancellationToken).ConfigureAwait(false);
            foreach (var record in scanned.Records)
            {
                if (record.Lsn <= lsn)
                {
                    continue;
                }

                if (record.Lsn != lsn + 1)
                {
                    throw new PartitionStorageException(
                        $"Partition {partition}: LSN gap in {segment.Name}: expected {lsn + 1}, found {record.Lsn}.");
                }

                var currentSet = changes.TryGetValue(record.Key, out var pending) ? pending : state.Get(record.Key) ?? SiblingSet.Empty;
                var applied = currentSet.Apply(record.Write);
                changes[record.Key] = applied;
                writers[record.Key] = record.Writer is { } writer ? new LastWrite(writer, record.Write.Version.Hlc) : null;
                if (record.Idempotency is { } idempotency)
                {
                    // The answer the write gave: the key's context right after it.
                    keyed.Add(new IdempotencyEntry(
                        record.Key,
                        idempotency.Key,
                        idempotency.Fingerprint,
                        record.Write.Version.IsTombstone,
                        idempotency.Created,
                        applied.Context,
                        record.Lsn,
                        record.Write.Version.Hlc));
                }

                replayed.Add(PartitionOwner.ToChange(record.Lsn, record.Key, applied, policies.For(record.Key)));
                lsn = record.Lsn;
            }
        }

        // Nothing is pruned here: the owner's writer drops expired keys (and lookups ignore them) by its own clock.
        return (state.With(changes, state.Idempotency.With(keyed, minHlc: 0), lsn, writers), replayed);
    }

    private readonly record struct TakeoverAttempt(
        TakeoverStatus Status, VersionedManifest? Manifest = null, SegmentLease? NewLease = null, ScannedSegment? ScannedTail = null);
}
