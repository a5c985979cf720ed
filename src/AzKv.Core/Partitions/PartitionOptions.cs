namespace AzKv.Partitions;

/// <summary>
/// Timing and sizing of a partition owner. Every lease and batching constant lives here,
/// with the reason for its default. Validated by <see cref="Validate"/> at startup.
/// </summary>
public sealed class PartitionOptions
{
    /// <summary>
    /// Lease on the active WAL segment. 30 s: long enough that a GC pause or a slow renew does
    /// not cost ownership, short enough that a dead owner's partitions move within ~35 s.
    /// Azure allows 15–60 s.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Renew at a third of the duration (the brief's rule): two more attempts fit before the
    /// lease could lapse.
    /// </summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reads are served only until (renew sent + duration − margin). 5 s covers clock-rate
    /// drift between us and the storage service (well under 1%) and the service-side lease
    /// starting after our send time; it is taken off, never added.
    /// </summary>
    public TimeSpan LeaseSafetyMargin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most records in one Append Block. Bounds the latency of the slowest caller in a batch.</summary>
    public int MaxBatchRecords { get; set; } = 4096;

    /// <summary>
    /// Most bytes in one Append Block. 4 MiB is the service's long-standing block limit
    /// (<see cref="Storage.BlobLimits.MaxAppendBlockBytes"/>).
    /// </summary>
    public int MaxBatchBytes { get; set; } = Storage.BlobLimits.MaxAppendBlockBytes;

    /// <summary>
    /// Longest the writer waits, after a batch of concurrent writes, for their callers to come back
    /// and join the next batch (see <c>PartitionOwner.WriterLoopAsync</c>). 4 ms is about one Append
    /// Block on Azurite and a fraction of one on Azure. Measured in real time, so a deterministic
    /// simulation sets it to zero (no wait; batches then hold whatever queued during the append).
    /// </summary>
    public TimeSpan MaxGatherWindow { get; set; } = TimeSpan.FromMilliseconds(4);

    /// <summary>Writes that may wait for the writer loop before callers are pushed back.</summary>
    public int MaxQueuedWrites { get; set; } = 65_536;

    /// <summary>
    /// Roll to a new segment after this many blocks: below the 50,000-block limit of an append
    /// blob with room for the blocks in flight (the brief: before 45,000).
    /// </summary>
    public int SegmentRolloverBlocks { get; set; } = 45_000;

    /// <summary>Roll to a new segment after this many bytes (keeps recovery reads bounded).</summary>
    public long SegmentRolloverBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Write a checkpoint after this many WAL bytes since the last one.</summary>
    public long CheckpointEveryBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Keep segments that a checkpoint made unnecessary for this long, because other regions
    /// tail them; then delete them.
    /// </summary>
    public TimeSpan SegmentRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long the writer keeps retrying a batch that failed with a transient error before it
    /// gives up ownership (it stops anyway when the lease can no longer be trusted).
    /// </summary>
    public TimeSpan TransientRetryBudget { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long an Idempotency-Key is remembered after its write (counted from the write's HLC): a retry within
    /// it answers the original outcome. 10 minutes covers client retry budgets and a failover with room to
    /// spare; the keys live in memory and in checkpoints, so the window bounds their size.
    /// </summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Largest value accepted, in bytes (the API's 413 limit).</summary>
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Conflict policy per key prefix: under <see cref="Versioning.ConflictPolicy.Lww"/> the losers of concurrent
    /// writes merged from other regions are recorded in the conflict log.
    /// </summary>
    public Versioning.ConflictPolicies ConflictPolicies { get; set; } = Versioning.ConflictPolicies.Default;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        Require(LeaseDuration >= Storage.BlobLimits.MinLeaseDuration && LeaseDuration <= Storage.BlobLimits.MaxLeaseDuration,
            nameof(LeaseDuration), "must be between 15 and 60 seconds");
        Require(LeaseRenewInterval > TimeSpan.Zero && LeaseRenewInterval <= LeaseDuration / 2,
            nameof(LeaseRenewInterval), "must be positive and at most half of LeaseDuration");
        Require(LeaseSafetyMargin > TimeSpan.Zero && LeaseSafetyMargin < LeaseDuration - LeaseRenewInterval,
            nameof(LeaseSafetyMargin), "must be positive (with zero an owner would serve reads up to the instant the service may give the lease to another node) and leave room for a renewal inside the lease");
        Require(MaxBatchRecords is >= 1 and <= 100_000, nameof(MaxBatchRecords), "must be between 1 and 100000");
        Require(MaxBatchBytes >= 1024 && MaxBatchBytes <= Storage.BlobLimits.MaxAppendBlockBytes,
            nameof(MaxBatchBytes), "must be between 1 KiB and 4 MiB");
        Require(MaxGatherWindow >= TimeSpan.Zero && MaxGatherWindow <= TimeSpan.FromSeconds(1),
            nameof(MaxGatherWindow), "must be between 0 and 1 second");
        Require(MaxQueuedWrites >= 1, nameof(MaxQueuedWrites), "must be at least 1");
        Require(SegmentRolloverBlocks is >= 2 and <= 49_000, nameof(SegmentRolloverBlocks), "must be between 2 and 49000");
        Require(SegmentRolloverBytes >= 4096, nameof(SegmentRolloverBytes), "must be at least 4096");
        Require(CheckpointEveryBytes >= 1, nameof(CheckpointEveryBytes), "must be at least 1");
        Require(SegmentRetention >= TimeSpan.Zero, nameof(SegmentRetention), "must not be negative");
        Require(TransientRetryBudget > TimeSpan.Zero, nameof(TransientRetryBudget), "must be positive");
        Require(IdempotencyWindow >= TimeSpan.FromSeconds(1) && IdempotencyWindow <= TimeSpan.FromDays(7),
            nameof(IdempotencyWindow), "must be between 1 second and 7 days");
        Require(MaxValueBytes >= 1 && MaxValueBytes + 64 * 1024 <= MaxBatchBytes,
            nameof(MaxValueBytes), "must be at least 1 and leave 64 KiB of room below MaxBatchBytes so one record always fits in a block");
    }

    private static void Require(bool condition, string setting, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"Partition setting '{setting}' {rule}.", setting);
        }
    }
}
