using AzKv.Storage;
using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

/// <summary>
/// Leases WAL segments for one owner (one lease id for all its segments): the old active segment at
/// takeover, the new segment at takeover and at rollover. Breaks a held lease only when told to.
/// </summary>
internal sealed class SegmentLeasing
{
    /// <summary>Acquire attempts per takeover step; each failed one but the last may break the lease once.</summary>
    private const int MaxAcquireAttempts = 3;

    private readonly int _partition;
    private readonly IBlobStore _store;
    private readonly string _leaseId;
    private readonly PartitionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public SegmentLeasing(int partition, IBlobStore store, string leaseId, PartitionOptions options, TimeProvider time, ILogger logger)
    {
        _partition = partition;
        _store = store;
        _leaseId = leaseId;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Leases <paramref name="segment"/>; with <see cref="TakeoverMode.Break"/> breaks a held lease
    /// and waits out its break period. All waiting is bounded by one lease duration plus
    /// <see cref="Cluster.TakeoverPolicy.StuckMargin"/>: a break never needs longer (the break period
    /// is at most the rest of one lease), so a longer wait means someone else keeps taking the lease
    /// between our breaks. Then, or when a break's period would end past that bound, it returns null
    /// (busy) at once instead of waiting, and the host decides again with fresh membership.
    /// </summary>
    public async Task<SegmentLease?> AcquireOrBreakAsync(string segment, TakeoverMode mode, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var budget = _options.LeaseDuration + Cluster.TakeoverPolicy.StuckMargin;
        for (var attempt = 1; attempt <= MaxAcquireAttempts; attempt++)
        {
            SegmentLease? lease;
            try
            {
                lease = await SegmentLease.TryAcquireAsync(_store, segment, _leaseId, _options, _time, _logger, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
            {
                // The manifest names a segment that was never created: treat it as empty.
                await CreateAppendBlobIfMissingAsync(segment, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (lease is not null)
            {
                return lease;
            }

            PartitionLog.LeaseBusy(_logger, _partition, segment);
            if (mode != TakeoverMode.Break || attempt == MaxAcquireAttempts)
            {
                return null;
            }

            // Break with the rest of the lease as the break period: the old owner cannot renew,
            // and its read window (which ends before its lease does) closes before we serve.
            TimeSpan remaining;
            try
            {
                remaining = await _store.BreakLeaseAsync(segment, breakPeriod: null, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStorageException ex) when (ex.IsLeaseConflict)
            {
                // Released or expired meanwhile: just try to acquire again.
                continue;
            }

            var wait = remaining > TimeSpan.Zero ? remaining + TimeSpan.FromMilliseconds(100) : TimeSpan.Zero;
            var waited = _time.GetElapsedTime(started);
            if (waited + wait > budget)
            {
                // The lease was taken again after our break (or is longer than ours): the break
                // stays in effect; the next attempt finds it shorter or over.
                PartitionLog.BreakWaitOverBudget(_logger, _partition, segment, waited.TotalSeconds, wait.TotalSeconds, budget.TotalSeconds);
                return null;
            }

            PartitionLog.BreakingLease(_logger, _partition, segment, remaining.TotalSeconds);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }

        return null;
    }

    /// <summary>
    /// Creates <paramref name="name"/> and leases it. An existing blob of that name is the orphan
    /// of a takeover or rollover that died before its manifest write; nothing can have been
    /// appended to it, so it is reused when empty and is corruption otherwise. Its lease may still
    /// be held by the dead node: with <see cref="TakeoverMode.Break"/> it is broken like any other.
    /// </summary>
    public async Task<SegmentLease?> CreateLeasedSegmentAsync(string name, TakeoverMode mode, CancellationToken cancellationToken)
    {
        try
        {
            await _store.CreateAppendBlobAsync(name, new BlobWriteOptions { Conditions = BlobConditions.IfNotExists }, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsAlreadyExists)
        {
            var properties = await _store.GetPropertiesAsync(name, default, cancellationToken).ConfigureAwait(false);
            if (properties.Kind != BlobKind.Append || properties.ContentLength != 0 || properties.IsSealed)
            {
                throw new PartitionStorageException(
                    $"Segment {name} exists but is not in the manifest and is not an empty append blob ({properties.ContentLength} bytes, sealed={properties.IsSealed}).");
            }
        }

        return await AcquireOrBreakAsync(name, mode, cancellationToken).ConfigureAwait(false);
    }

    private async Task CreateAppendBlobIfMissingAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _store.CreateAppendBlobAsync(name, new BlobWriteOptions { Conditions = BlobConditions.IfNotExists }, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsAlreadyExists)
        {
            // Created by someone else meanwhile.
        }
    }
}
