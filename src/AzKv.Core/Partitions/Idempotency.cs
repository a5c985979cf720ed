using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Partitions;

/// <summary>
/// A write remembered under its Idempotency-Key: what a retry with the same key and the same request gets back
/// instead of applying again (docs/api.md). Keys are scoped per partition and data key: the same Idempotency-Key
/// on two different keys names two different writes.
/// </summary>
public sealed class IdempotencyEntry
{
    /// <summary>Creates an entry.</summary>
    public IdempotencyEntry(string key, string idempotencyKey, ReadOnlyMemory<byte> fingerprint, bool isDelete, bool created, VersionVector context, long lsn, long hlc)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        ArgumentNullException.ThrowIfNull(context);
        Key = key;
        IdempotencyKey = idempotencyKey;
        Fingerprint = fingerprint;
        IsDelete = isDelete;
        Created = created;
        Context = context;
        Lsn = lsn;
        Hlc = hlc;
    }

    /// <summary>The data key written.</summary>
    public string Key { get; }

    /// <summary>The client's Idempotency-Key.</summary>
    public string IdempotencyKey { get; }

    /// <summary>SHA-256 of the request (<see cref="RequestFingerprint"/>).</summary>
    public ReadOnlyMemory<byte> Fingerprint { get; }

    /// <summary>The write was a delete (HTTP 204).</summary>
    public bool IsDelete { get; }

    /// <summary>A put that created the key (HTTP 201; otherwise 200).</summary>
    public bool Created { get; }

    /// <summary>The key's context right after the write: the ETag the write answered with.</summary>
    public VersionVector Context { get; }

    /// <summary>The write's LSN.</summary>
    public long Lsn { get; }

    /// <summary>The write's HLC: the window counts from its physical time.</summary>
    public long Hlc { get; }

    /// <summary>True when <paramref name="fingerprint"/> is this entry's request.</summary>
    public bool Matches(ReadOnlySpan<byte> fingerprint) => Fingerprint.Span.SequenceEqual(fingerprint);

    /// <summary>The outcome a retry gets: the original one, marked as a replay (it logs nothing).</summary>
    internal WriteOutcome ToOutcome() => new(WriteStatus.Committed, Context.ToETag(), Created, Lsn, Replayed: true);
}

/// <summary>
/// The recent Idempotency-Keys of a partition (part of <see cref="PartitionState"/>, so it is immutable,
/// checkpointed and rebuilt by WAL replay). Entries are kept for a window counted from their HLC's physical time
/// (<see cref="PartitionOptions.IdempotencyWindow"/>); a lookup ignores an older entry even before it is pruned.
/// </summary>
public sealed class IdempotencyWindow
{
    private readonly ImmutableDictionary<(string Key, string IdempotencyKey), IdempotencyEntry> _entries;
    private readonly ImmutableQueue<IdempotencyEntry> _order;

    private IdempotencyWindow(ImmutableDictionary<(string, string), IdempotencyEntry> entries, ImmutableQueue<IdempotencyEntry> order)
    {
        _entries = entries;
        _order = order;
    }

    /// <summary>No entries.</summary>
    public static IdempotencyWindow Empty { get; } = new(ImmutableDictionary<(string, string), IdempotencyEntry>.Empty, ImmutableQueue<IdempotencyEntry>.Empty);

    /// <summary>Number of entries held (expired ones not yet pruned included).</summary>
    public int Count => _entries.Count;

    /// <summary>The entries in the order they were recorded (LSN order).</summary>
    public IEnumerable<IdempotencyEntry> Entries
    {
        get
        {
            foreach (var entry in _order)
            {
                if (_entries.TryGetValue((entry.Key, entry.IdempotencyKey), out var current) && ReferenceEquals(current, entry))
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>The entry for (<paramref name="key"/>, <paramref name="idempotencyKey"/>) recorded at or after <paramref name="minHlc"/>, or null.</summary>
    public IdempotencyEntry? Find(string key, string idempotencyKey, long minHlc) =>
        _entries.TryGetValue((key, idempotencyKey), out var entry) && entry.Hlc >= minHlc ? entry : null;

    /// <summary>This window with <paramref name="added"/> recorded (in order) and the entries older than <paramref name="minHlc"/> dropped.</summary>
    public IdempotencyWindow With(IReadOnlyCollection<IdempotencyEntry> added, long minHlc)
    {
        var entries = _entries;
        var order = _order;
        foreach (var entry in added)
        {
            entries = entries.SetItem((entry.Key, entry.IdempotencyKey), entry);
            order = order.Enqueue(entry);
        }

        while (!order.IsEmpty && order.Peek().Hlc < minHlc)
        {
            order = order.Dequeue(out var old);
            if (entries.TryGetValue((old.Key, old.IdempotencyKey), out var current) && ReferenceEquals(current, old))
            {
                entries = entries.Remove((old.Key, old.IdempotencyKey));
            }
        }

        return ReferenceEquals(entries, _entries) && ReferenceEquals(order, _order) ? this : new IdempotencyWindow(entries, order);
    }

    /// <summary>The smallest HLC a lookup at <paramref name="now"/> accepts for a window of <paramref name="window"/>.</summary>
    public static long MinHlc(DateTimeOffset now, TimeSpan window)
    {
        var ms = now.ToUnixTimeMilliseconds() - (long)window.TotalMilliseconds;
        return ms <= 0 ? 0 : HybridLogicalClock.Pack(Math.Min(ms, HybridLogicalClock.MaxPhysicalMilliseconds), 0);
    }
}

/// <summary>
/// The fingerprint an Idempotency-Key is bound to: SHA-256 over the operation, the key, the content type,
/// the SHA-256 of the body and the precondition (kind and If-Match context), each length-prefixed. The same
/// key with another fingerprint is a reused key (HTTP 422).
/// </summary>
public static class RequestFingerprint
{
    /// <summary>Computes the fingerprint of a put or delete.</summary>
    public static byte[] Compute(WriteCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> scratch = stackalloc byte[4];
        hash.AppendData("azkv-request-v1"u8);
        hash.AppendData([(byte)command.Kind, (byte)command.Precondition]);
        Append(hash, Encoding.UTF8.GetBytes(command.Key), scratch);
        var isPut = command.Kind == WriteKind.Put;
        Append(hash, isPut ? Encoding.ASCII.GetBytes(command.ContentType) : [], scratch);
        Append(hash, isPut ? SHA256.HashData(command.Value.Span) : [], scratch);
        Append(hash, command.Precondition == PreconditionKind.IfMatch && command.IfMatch is { } ifMatch ? ifMatch.ToBytes() : [], scratch);
        return hash.GetHashAndReset();
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> data, Span<byte> scratch)
    {
        BinaryPrimitives.WriteInt32LittleEndian(scratch, data.Length);
        hash.AppendData(scratch);
        hash.AppendData(data);
    }
}
