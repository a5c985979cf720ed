using System.Diagnostics;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

/// <summary>How an attempt to open (take over) a partition ended.</summary>
public enum OpenStatus
{
    /// <summary>This node owns the partition now.</summary>
    Opened,

    /// <summary>Another node holds the lease (and the mode was <see cref="TakeoverMode.WaitForExpiry"/>), or won a race. Try later.</summary>
    Busy,
}

/// <summary>The outcome of <see cref="PartitionOwner.OpenAsync"/>.</summary>
/// <param name="Status">Opened or busy.</param>
/// <param name="Owner">The owner, when opened.</param>
public readonly record struct OpenResult(OpenStatus Status, PartitionOwner? Owner);

public sealed partial class PartitionOwner
{
    /// <summary>
    /// Takes ownership of <paramref name="partition"/> (docs/fencing.md, "Takeover") and recovers
    /// its state. Throws <see cref="PartitionStorageException"/> when stored data is corrupt and
    /// <see cref="BlobStorageException"/> when storage fails unexpectedly. <paramref name="feed"/>,
    /// when given, receives every committed change (seeded with the records replayed here).
    /// </summary>
    public static async Task<OpenResult> OpenAsync(
        int partition,
        IBlobStore store,
        OwnerIdentity identity,
        PartitionOptions options,
        TakeoverMode mode,
        TimeProvider time,
        HybridLogicalClock clock,
        ILogger logger,
        CancellationToken cancellationToken,
        ChangeFeed? feed = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var started = Stopwatch.GetTimestamp();
        var manifests = new ManifestStore(store);
        var leaseId = Guid.NewGuid().ToString();

        // A few rounds: a lost race with another takeover starts over with the fresh manifest.
        for (var round = 0; round < 5; round++)
        {
            var current = await manifests.ReadAsync(partition, cancellationToken).ConfigureAwait(false)
                ?? await CreateInitialManifestAsync(manifests, partition, time, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                continue;
            }

            var attempt = await TryTakeOverAsync(partition, store, manifests, current, identity, options, mode, time, logger, leaseId, cancellationToken)
                .ConfigureAwait(false);
            if (attempt.Status == TakeoverStatus.Busy)
            {
                return new OpenResult(OpenStatus.Busy, null);
            }

            if (attempt.Status == TakeoverStatus.Raced)
            {
                continue;
            }

            SegmentLease lease = attempt.NewLease!;
            PartitionState state;
            try
            {
                (state, var replayed) = await RecoverAsync(
                    partition, store, attempt.Manifest!.Manifest, attempt.ScannedTail, options.ConflictPolicies, logger, cancellationToken).ConfigureAwait(false);
                if (feed is not null)
                {
                    feed.ResetTo(replayed.Count > 0 ? replayed[0].Lsn - 1 : state.Lsn);
                    feed.Append(replayed);
                }
            }
            catch
            {
                await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                await lease.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            // Never hand out an HLC below what the partition already holds.
            foreach (var (_, set) in state.Keys)
            {
                foreach (var version in set.Siblings)
                {
                    clock.Observe(version.Hlc);
                }
            }

            var owner = new PartitionOwner(partition, store, options, time, logger, identity, clock, leaseId, attempt.Manifest, lease, state, feed);
            owner._writerLoop = Task.Run(owner.WriterLoopAsync, CancellationToken.None);
            _ = owner.WatchLeaseAsync();
            PartitionLog.Opened(logger, partition, attempt.Manifest.Manifest.Epoch, state.Lsn, state.Keys.Count,
                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new OpenResult(OpenStatus.Opened, owner);
        }

        return new OpenResult(OpenStatus.Busy, null);
    }

    private static async Task<VersionedManifest?> CreateInitialManifestAsync(
        ManifestStore manifests, int partition, TimeProvider time, CancellationToken cancellationToken)
    {
        var initial = new PartitionManifest
        {
            Partition = partition,
            Epoch = 0,
            Segments = [],
            Updated = time.GetUtcNow(),
        };
        return await manifests.TryCreateAsync(initial, cancellationToken).ConfigureAwait(false);
    }

    private enum TakeoverStatus
    {
        Done,
        Busy,
        Raced,
    }

    private readonly record struct TakeoverAttempt(
        TakeoverStatus Status, VersionedManifest? Manifest = null, SegmentLease? NewLease = null, ScannedSegment? ScannedTail = null);

    private static async Task<TakeoverAttempt> TryTakeOverAsync(
        int partition,
        IBlobStore store,
        ManifestStore manifests,
        VersionedManifest current,
        OwnerIdentity identity,
        PartitionOptions options,
        TakeoverMode mode,
        TimeProvider time,
        ILogger logger,
        string leaseId,
        CancellationToken cancellationToken)
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
                oldLease = await AcquireOrBreakAsync(partition, store, active.Name, leaseId, options, mode, time, logger, cancellationToken).ConfigureAwait(false);
                if (oldLease is null)
                {
                    return new TakeoverAttempt(TakeoverStatus.Busy);
                }

                // 2. Someone may have completed a takeover between our read and our lease.
                var reread = await manifests.ReadAsync(partition, cancellationToken).ConfigureAwait(false);
                if (reread is null || reread.ETag != current.ETag)
                {
                    return new TakeoverAttempt(TakeoverStatus.Raced);
                }

                // 3. Read the tail: the valid prefix ends at the first torn or corrupt record.
                scanned = await ScanSegmentAsync(store, active, length: null, partition, logger, cancellationToken).ConfigureAwait(false);

                // 4. Seal it: nothing can be appended after the length we record.
                await store.SealAsync(active.Name, BlobConditions.WithLease(oldLease.LeaseId), cancellationToken).ConfigureAwait(false);
                segments[^1] = active with
                {
                    Sealed = true,
                    Length = scanned.ValidLength,
                    EndLsn = scanned.LastLsn,
                    SealedAt = time.GetUtcNow(),
                };
            }

            // 5. The next segment, leased before the manifest names it.
            var nextLsn = segments.Count == 0 ? 1 : segments[^1].EndLsn!.Value + 1;
            var epoch = manifest.Epoch + 1;
            var name = StorageLayout.Segment(partition, epoch, nextLsn);
            try
            {
                newLease = await CreateLeasedSegmentAsync(partition, store, name, leaseId, options, mode, time, logger, cancellationToken).ConfigureAwait(false);
            }
            catch (PartitionStorageException)
            {
                // A non-empty next segment may be a competing takeover's, already in use: with no
                // active segment (a new partition) no lease serialises takeovers, and a takeover that
                // stalled longer than its lease on the old segment can be overtaken. Only if the
                // manifest is still the one we read is it an orphan someone wrote to (corruption).
                var reread = await manifests.ReadAsync(partition, cancellationToken).ConfigureAwait(false);
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
                Owner = new ManifestOwner(identity.NodeId, identity.Endpoint),
                Segments = segments,
                Updated = time.GetUtcNow(),
            };
            var written = await manifests.TryReplaceAsync(updated, current.ETag, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Acquire attempts per takeover step; each failed one but the last may break the lease once.</summary>
    private const int MaxAcquireAttempts = 3;

    /// <summary>
    /// Leases <paramref name="segment"/>; with <see cref="TakeoverMode.Break"/> breaks a held lease
    /// and waits out its break period. All waiting is bounded by one lease duration plus
    /// <see cref="Cluster.TakeoverPolicy.StuckMargin"/>: a break never needs longer (the break period
    /// is at most the rest of one lease), so a longer wait means someone else keeps taking the lease
    /// between our breaks. Then, or when a break's period would end past that bound, it returns null
    /// (busy) at once instead of waiting, and the host decides again with fresh membership.
    /// </summary>
    private static async Task<SegmentLease?> AcquireOrBreakAsync(
        int partition,
        IBlobStore store,
        string segment,
        string leaseId,
        PartitionOptions options,
        TakeoverMode mode,
        TimeProvider time,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var budget = options.LeaseDuration + Cluster.TakeoverPolicy.StuckMargin;
        for (var attempt = 1; attempt <= MaxAcquireAttempts; attempt++)
        {
            SegmentLease? lease;
            try
            {
                lease = await SegmentLease.TryAcquireAsync(store, segment, leaseId, options, time, logger, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
            {
                // The manifest names a segment that was never created: treat it as empty.
                await CreateAppendBlobIfMissingAsync(store, segment, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (lease is not null)
            {
                return lease;
            }

            PartitionLog.LeaseBusy(logger, partition, segment);
            if (mode != TakeoverMode.Break || attempt == MaxAcquireAttempts)
            {
                return null;
            }

            // Break with the rest of the lease as the break period: the old owner cannot renew,
            // and its read window (which ends before its lease does) closes before we serve.
            TimeSpan remaining;
            try
            {
                remaining = await store.BreakLeaseAsync(segment, breakPeriod: null, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStorageException ex) when (ex.IsLeaseConflict)
            {
                // Released or expired meanwhile: just try to acquire again.
                continue;
            }

            var wait = remaining > TimeSpan.Zero ? remaining + TimeSpan.FromMilliseconds(100) : TimeSpan.Zero;
            var waited = time.GetElapsedTime(started);
            if (waited + wait > budget)
            {
                // The lease was taken again after our break (or is longer than ours): the break
                // stays in effect; the next attempt finds it shorter or over.
                PartitionLog.BreakWaitOverBudget(logger, partition, segment, waited.TotalSeconds, wait.TotalSeconds, budget.TotalSeconds);
                return null;
            }

            PartitionLog.BreakingLease(logger, partition, segment, remaining.TotalSeconds);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }

        return null;
    }

    private static async Task CreateAppendBlobIfMissingAsync(IBlobStore store, string name, CancellationToken cancellationToken)
    {
        try
        {
            await store.CreateAppendBlobAsync(name, new BlobWriteOptions { Conditions = BlobConditions.IfNotExists }, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsAlreadyExists)
        {
            // Created by someone else meanwhile.
        }
    }

    /// <summary>
    /// Creates <paramref name="name"/> and leases it. An existing blob of that name is the orphan
    /// of a takeover or rollover that died before its manifest write; nothing can have been
    /// appended to it, so it is reused when empty and is corruption otherwise. Its lease may still
    /// be held by the dead node: with <see cref="TakeoverMode.Break"/> it is broken like any other.
    /// </summary>
    private static async Task<SegmentLease?> CreateLeasedSegmentAsync(
        int partition,
        IBlobStore store,
        string name,
        string leaseId,
        PartitionOptions options,
        TakeoverMode mode,
        TimeProvider time,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        try
        {
            await store.CreateAppendBlobAsync(name, new BlobWriteOptions { Conditions = BlobConditions.IfNotExists }, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsAlreadyExists)
        {
            var properties = await store.GetPropertiesAsync(name, default, cancellationToken).ConfigureAwait(false);
            if (properties.Kind != BlobKind.Append || properties.ContentLength != 0 || properties.IsSealed)
            {
                throw new PartitionStorageException(
                    $"Segment {name} exists but is not in the manifest and is not an empty append blob ({properties.ContentLength} bytes, sealed={properties.IsSealed}).");
            }
        }

        return await AcquireOrBreakAsync(partition, store, name, leaseId, options, mode, time, logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Recovers the state: the manifest's checkpoint, then every record after it, segment by
    /// segment, each only up to its recorded length.
    /// </summary>
    private static async Task<(PartitionState State, List<Change> Replayed)> RecoverAsync(
        int partition,
        IBlobStore store,
        PartitionManifest manifest,
        ScannedSegment? scannedTail,
        ConflictPolicies policies,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var state = PartitionState.Empty;
        if (manifest.Checkpoint is { } checkpoint)
        {
            state = await LoadCheckpointAsync(store, partition, checkpoint, cancellationToken).ConfigureAwait(false);
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
                : await ScanSegmentAsync(store, segment, segment.Length, partition, logger, cancellationToken).ConfigureAwait(false);
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

                replayed.Add(ToChange(record.Lsn, record.Key, applied, policies.For(record.Key)));
                lsn = record.Lsn;
            }
        }

        // Nothing is pruned here: the owner's writer drops expired keys (and lookups ignore them) by its own clock.
        return (state.With(changes, state.Idempotency.With(keyed, minHlc: 0), lsn, writers), replayed);
    }
}
