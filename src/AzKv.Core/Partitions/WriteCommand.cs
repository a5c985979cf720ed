using AzKv.Versioning;

namespace AzKv.Partitions;

/// <summary>What a write does to its key.</summary>
public enum WriteKind
{
    /// <summary>Store a value.</summary>
    Put,

    /// <summary>Delete the key (a tombstone version, so the delete replicates and merges like a write).</summary>
    Delete,

    /// <summary>
    /// Apply a write another region made (<see cref="WriteCommand.Replicated"/>): the DVV merge, logged
    /// as the same write clock with this partition's next LSN; nothing is logged when it changes nothing.
    /// </summary>
    Apply,
}

/// <summary>The condition a write depends on (HTTP If-Match / If-None-Match).</summary>
public enum PreconditionKind
{
    /// <summary>Unconditional: supersedes whatever is stored.</summary>
    None,

    /// <summary>Only if the key's current ETag (its causal context) equals <see cref="WriteCommand.IfMatch"/>.</summary>
    IfMatch,

    /// <summary>Only if the key does not exist (or is deleted): create only.</summary>
    IfNoneMatchAny,

    /// <summary>Only if the key exists (HTTP <c>If-Match: *</c>).</summary>
    IfExists,
}

/// <summary>One write submitted to a partition owner.</summary>
public sealed record WriteCommand
{
    /// <summary>A validated key.</summary>
    public required string Key { get; init; }

    /// <summary>Put or delete.</summary>
    public WriteKind Kind { get; init; }

    /// <summary>The value (puts only).</summary>
    public ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>The Content-Type stored with the value.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>The precondition.</summary>
    public PreconditionKind Precondition { get; init; }

    /// <summary>The context the client read (If-Match), when <see cref="Precondition"/> is IfMatch.</summary>
    public VersionVector? IfMatch { get; init; }

    /// <summary>The write clock to merge, for <see cref="WriteKind.Apply"/>.</summary>
    public CausalWrite? Replicated { get; init; }

    /// <summary>
    /// The client's Idempotency-Key (puts and deletes; validated with <see cref="Keys.IdempotencyKeys"/>), or null.
    /// A write whose key and request (<see cref="RequestFingerprint"/>) match one committed within the window
    /// answers that write's outcome and writes nothing; the same key with another request is
    /// <see cref="WriteStatus.IdempotencyKeyReused"/>.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// Who makes the write (recorded in the WAL record as tag 4 and kept as the key's last writer), or null when
    /// unknown (auth off). For <see cref="WriteKind.Apply"/>: the origin region's writer.
    /// </summary>
    public Wal.WriterIdentity? Writer { get; init; }
}

/// <summary>How a write ended.</summary>
public enum WriteStatus
{
    /// <summary>Durable in the WAL and visible to reads.</summary>
    Committed,

    /// <summary>The precondition did not hold; nothing was written.</summary>
    PreconditionFailed,

    /// <summary>A delete of a key that does not exist; nothing was written.</summary>
    NotFound,

    /// <summary>This node does not (or no longer) own the partition; nothing was written. Retry at the owner.</summary>
    NotOwner,

    /// <summary>Storage could not be reached; the write did not commit. Retry later.</summary>
    Unavailable,

    /// <summary>
    /// The write's append was sent but its outcome could not be learned (the answer was lost and
    /// the retry budget ran out, the lease went between attempts, or a step-down cancelled the
    /// append in flight): it may or may not be committed, and a successor will show which. Not a
    /// definite failure: a conditional write must not be retried blindly (its retry could fail its
    /// precondition on its own first attempt, or apply twice).
    /// </summary>
    OutcomeUnknown,

    /// <summary>The Idempotency-Key was used for a different request on this key within the window; nothing was written.</summary>
    IdempotencyKeyReused,
}

/// <summary>The outcome of a write.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="ETag">The key's new ETag, when committed.</param>
/// <param name="Created">True when a put created the key (it was absent or deleted).</param>
/// <param name="Lsn">The record's LSN, when committed.</param>
/// <param name="Replayed">
/// True when this is the outcome of an earlier write with the same Idempotency-Key and request, answered
/// again without writing (<see cref="Lsn"/> is the earlier write's).
/// </param>
public readonly record struct WriteOutcome(WriteStatus Status, string? ETag = null, bool Created = false, long Lsn = 0, bool Replayed = false)
{
    internal static WriteOutcome IdempotencyKeyReused => new(WriteStatus.IdempotencyKeyReused);

    internal static WriteOutcome NotOwner => new(WriteStatus.NotOwner);

    internal static WriteOutcome Unavailable => new(WriteStatus.Unavailable);

    internal static WriteOutcome OutcomeUnknown => new(WriteStatus.OutcomeUnknown);

    internal static WriteOutcome PreconditionFailed => new(WriteStatus.PreconditionFailed);

    internal static WriteOutcome NotFound => new(WriteStatus.NotFound);
}

/// <summary>What to do when another node holds the active segment's lease.</summary>
public enum TakeoverMode
{
    /// <summary>Give up for now ("busy"); the caller retries later (the lease may expire or be released).</summary>
    WaitForExpiry,

    /// <summary>
    /// Break the lease with the rest of its duration as the break period and wait that long, so the
    /// old owner's read window has closed before this node serves. For a dead owner.
    /// </summary>
    Break,
}

/// <summary>Who is taking a partition over.</summary>
/// <param name="NodeId">This node's id.</param>
/// <param name="Region">This node's region (writes here get dots of this region).</param>
/// <param name="Endpoint">URL other nodes forward to, recorded in the manifest.</param>
public sealed record OwnerIdentity(string NodeId, string Region, string? Endpoint);
