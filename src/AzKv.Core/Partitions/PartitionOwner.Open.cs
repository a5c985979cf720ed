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
    /// its state (<see cref="PartitionRecovery"/>). Throws <see cref="PartitionStorageException"/> when stored data is corrupt and
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
        var leasing = new SegmentLeasing(partition, store, Guid.NewGuid().ToString(), options, time, logger);
        var recovery = new PartitionRecovery(partition, store, identity, options, leasing, time, logger);
        var recovered = await recovery.RecoverAsync(mode, cancellationToken).ConfigureAwait(false);
        if (recovered is null)
        {
            return new OpenResult(OpenStatus.Busy, null);
        }

        var state = recovered.State;
        if (feed is not null)
        {
            var replayed = recovered.Replayed;
            feed.ResetTo(replayed.Count > 0 ? replayed[0].Lsn - 1 : state.Lsn);
            feed.Append(replayed);
        }

        // Never hand out an HLC below what the partition already holds.
        foreach (var (_, set) in state.Keys)
        {
            foreach (var version in set.Siblings)
            {
                clock.Observe(version.Hlc);
            }
        }

        var owner = new PartitionOwner(partition, store, options, time, logger, identity, clock, leasing, recovered, feed);
        owner._writerLoop = Task.Run(owner.WriterLoopAsync, CancellationToken.None);
        _ = owner.WatchLeaseAsync();
        PartitionLog.Opened(logger, partition, recovered.Manifest.Manifest.Epoch, state.Lsn, state.Keys.Count,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new OpenResult(OpenStatus.Opened, owner);
    }
}
