using AzKv.Keys;
using AzKv.Versioning;

namespace AzKv.Wal;

/// <summary>
/// One WAL record in owned form: the log sequence number, the key, and the DVV write clock
/// (<see cref="CausalWrite"/>: context, dot, version). It maps 1:1 to the bytes of docs/record-format.md; every
/// other field (type, HLC, origin, dot counter, content type, value) is read from <see cref="Write"/>.
/// </summary>
/// <remarks>Replay and remote apply are both <c>state[Key] = state[Key].Apply(Write)</c>.</remarks>
public readonly struct WalRecord
{
    /// <summary>Creates a record.</summary>
    /// <exception cref="ArgumentException">The key is not valid (see <see cref="Labels.ValidateEntryKey"/>).</exception>
    public WalRecord(ulong lsn, string key, CausalWrite write)
        : this(lsn, key, write, null)
    {
    }

    /// <summary>Creates a record that carries the idempotency fields of the request that made it (format 2).</summary>
    /// <exception cref="ArgumentException">The key is not valid (see <see cref="Labels.ValidateEntryKey"/>).</exception>
    public WalRecord(ulong lsn, string key, CausalWrite write, WalIdempotency? idempotency)
        : this(lsn, key, write, idempotency, null)
    {
    }

    /// <summary>Creates a record that may carry the idempotency fields (tags 1–3) and who made the write (tag 4).</summary>
    /// <exception cref="ArgumentException">The key is not valid (see <see cref="Labels.ValidateEntryKey"/>).</exception>
    public WalRecord(ulong lsn, string key, CausalWrite write, WalIdempotency? idempotency, WriterIdentity? writer)
    {
        if (Labels.ValidateEntryKey(key) is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(key));
        }

        ArgumentNullException.ThrowIfNull(write);
        Lsn = lsn;
        Key = key;
        Write = write;
        Idempotency = idempotency;
        Writer = writer;
    }

    /// <summary>Log sequence number: position of the record in its partition's log (assigned by the owner).</summary>
    public ulong Lsn { get; }

    /// <summary>The entry written: the key, or <c>key U+0000 label</c> for a labelled value (see <see cref="Labels"/>).</summary>
    public string Key { get; }

    /// <summary>The write clock and version: what <see cref="SiblingSet.Apply(CausalWrite)"/> takes.</summary>
    public CausalWrite Write { get; }

    /// <summary>The idempotency fields (format 2 tags 1–3), or null for a write without an Idempotency-Key.</summary>
    public WalIdempotency? Idempotency { get; }

    /// <summary>Who made the write (format 2 tag 4), or null when the record does not say (auth off, or an older record).</summary>
    public WriterIdentity? Writer { get; }

    /// <summary>The format the record is written in: 1 without tagged fields, else 2.</summary>
    public byte Format => Idempotency is null && Writer is null && Key.IndexOf(Labels.Separator, StringComparison.Ordinal) < 0 ? WalFormat.Version1 : WalFormat.Version2;

    /// <summary><see cref="WalRecordType.Delete"/> for a tombstone, else <see cref="WalRecordType.Put"/>.</summary>
    public WalRecordType Type => Write.Version.IsTombstone ? WalRecordType.Delete : WalRecordType.Put;

    /// <summary>HLC timestamp of the write.</summary>
    public long Hlc => Write.Version.Hlc;

    /// <summary>The region that accepted the write (the dot's region).</summary>
    public string OriginRegion => Write.Dot.Region;

    /// <summary>The dot's counter.</summary>
    public ulong DotCounter => Write.Dot.Counter;

    /// <summary>The causal context of the write.</summary>
    public VersionVector Context => Write.Context;

    /// <summary>The content type ("" for a delete).</summary>
    public string ContentType => Write.Version.ContentType;

    /// <summary>The value (empty for a delete).</summary>
    public ReadOnlyMemory<byte> Value => Write.Version.Value;

    /// <summary>Encoded size in bytes, header included.</summary>
    public int EncodedLength => WalEncoder.GetEncodedLength(this);

    /// <inheritdoc/>
    public override string ToString() => $"#{Lsn} {Type} '{Key}' {Write}";
}
