using System.Collections.Immutable;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Partitions;

/// <summary>
/// The in-memory state of one partition at an LSN: every key's sibling set, in ordinal key
/// order. Immutable: the writer publishes a new instance per batch and readers use whichever
/// snapshot they picked up, so reads take no lock and checkpoints need no pause.
/// </summary>
public sealed class PartitionState
{
    private static readonly ImmutableDictionary<string, LastWrite> NoWriters = ImmutableDictionary.Create<string, LastWrite>(StringComparer.Ordinal);

    private PartitionState(
        ImmutableSortedDictionary<string, SiblingSet> keys, long lsn, IdempotencyWindow idempotency, ImmutableDictionary<string, LastWrite> writers)
    {
        Keys = keys;
        Lsn = lsn;
        Idempotency = idempotency;
        Writers = writers;
    }

    /// <summary>The state before any record.</summary>
    public static PartitionState Empty { get; } = new(ImmutableSortedDictionary.Create<string, SiblingSet>(StringComparer.Ordinal), 0, IdempotencyWindow.Empty, NoWriters);

    /// <summary>
    /// Who last wrote each key (the writer of the last record logged for it here; for a remote write, its origin
    /// region's writer), for keys whose last record said (WAL tag 4). Checkpointed with the keys.
    /// </summary>
    public ImmutableDictionary<string, LastWrite> Writers { get; }

    /// <summary>The key's last writer and the write's HLC, or null when unknown.</summary>
    public LastWrite? GetLastWrite(string key) => Writers.TryGetValue(key, out var last) ? last : null;

    /// <summary>The recent Idempotency-Keys and the outcomes of their writes (checkpointed and replayed with the keys).</summary>
    public IdempotencyWindow Idempotency { get; }

    /// <summary>Every key ever written and not yet collected (tombstones included), in ordinal order.</summary>
    public ImmutableSortedDictionary<string, SiblingSet> Keys { get; }

    /// <summary>LSN of the last record applied.</summary>
    public long Lsn { get; }

    /// <summary>
    /// The keys as an array in ordinal order, built on first use and kept with this snapshot, so
    /// range scans (listing) can binary-search a start key.
    /// </summary>
    public string[] SortedKeys => _sortedKeys ??= [.. Keys.Keys];

    private string[]? _sortedKeys;

    /// <summary>The key's sibling set, or null when the key was never written.</summary>
    public SiblingSet? Get(string key) => Keys.TryGetValue(key, out var set) ? set : null;

    /// <summary>Builds a state from a checkpoint's contents.</summary>
    public static PartitionState FromEntries(
        IEnumerable<KeyValuePair<string, SiblingSet>> entries, long lsn, IdempotencyWindow? idempotency = null, IEnumerable<KeyValuePair<string, LastWrite>>? writers = null) =>
        new(
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, entries),
            lsn,
            idempotency ?? IdempotencyWindow.Empty,
            writers is null ? NoWriters : ImmutableDictionary.CreateRange(StringComparer.Ordinal, writers));

    /// <summary>Returns the state with <paramref name="changes"/> applied and the LSN advanced.</summary>
    public PartitionState With(IReadOnlyCollection<KeyValuePair<string, SiblingSet>> changes, long lsn) => With(changes, Idempotency, lsn);

    /// <summary>Returns the state with <paramref name="changes"/> applied, the idempotency window replaced and the LSN advanced.</summary>
    public PartitionState With(IReadOnlyCollection<KeyValuePair<string, SiblingSet>> changes, IdempotencyWindow idempotency, long lsn) =>
        With(changes, idempotency, lsn, null);

    /// <summary>
    /// As <see cref="With(IReadOnlyCollection{KeyValuePair{string, SiblingSet}}, IdempotencyWindow, long)"/>, also
    /// recording each written key's last writer (a null value: the last write did not say who made it).
    /// </summary>
    public PartitionState With(
        IReadOnlyCollection<KeyValuePair<string, SiblingSet>> changes,
        IdempotencyWindow idempotency,
        long lsn,
        IReadOnlyCollection<KeyValuePair<string, LastWrite?>>? writers)
    {
        ArgumentNullException.ThrowIfNull(idempotency);
        var nextWriters = Writers;
        if (writers is { Count: > 0 })
        {
            var builder = Writers.ToBuilder();
            foreach (var (key, last) in writers)
            {
                if (last is null)
                {
                    builder.Remove(key);
                }
                else
                {
                    builder[key] = last;
                }
            }

            nextWriters = builder.ToImmutable();
        }

        if (changes.Count == 0)
        {
            return new PartitionState(Keys, lsn, idempotency, nextWriters);
        }

        var keys = Keys.ToBuilder();
        foreach (var (key, set) in changes)
        {
            keys[key] = set;
        }

        return new PartitionState(keys.ToImmutable(), lsn, idempotency, nextWriters);
    }

    /// <summary>
    /// A hash of the whole state (keys, contexts, every sibling), for tests that compare a
    /// recovered partition with one that never restarted.
    /// </summary>
    public string ComputeStateHash()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var (key, set) in Keys)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
            hash.AppendData(set.Context.ToBytes());
            foreach (var version in set.Siblings)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(version.Dot.ToString()));
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(number, version.Hlc);
                hash.AppendData(number);
                hash.AppendData(version.IsTombstone ? [1] : [0]);
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(version.ContentType));
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(number, version.Value.Length);
                hash.AppendData(number);
                hash.AppendData(version.Value.Span);
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}

/// <summary>Who last wrote a key, and when.</summary>
/// <param name="Writer">The caller (origin region's caller for a replicated write).</param>
/// <param name="Hlc">The write's HLC (its physical part is the time of the write).</param>
public sealed record LastWrite(WriterIdentity Writer, long Hlc)
{
    /// <summary>The time of the write (the HLC's physical milliseconds).</summary>
    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeMilliseconds(HybridLogicalClock.GetPhysicalMilliseconds(Hlc));
}
