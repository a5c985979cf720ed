using System.Text;
using AzKv.Versioning;

namespace AzKv.Wal;

/// <summary>
/// A decoded WAL record whose variable fields are slices of the read buffer (no copies). Valid only while the buffer
/// is; call <see cref="ToRecord"/> (or <see cref="ToCausalWrite"/>) to materialize owned copies before keeping
/// anything. Every field has been validated by <see cref="WalReader"/>.
/// </summary>
public readonly ref struct WalRecordView
{
    internal WalRecordView(
        int encodedLength,
        WalRecordType type,
        ulong lsn,
        long hlc,
        ReadOnlySpan<byte> origin,
        ulong dotCounter,
        ReadOnlySpan<byte> context,
        ReadOnlySpan<byte> key,
        ReadOnlySpan<byte> contentType,
        ReadOnlySpan<byte> value,
        byte format = WalFormat.Version1,
        ReadOnlySpan<byte> idempotencyKey = default,
        ReadOnlySpan<byte> fingerprint = default,
        bool created = false,
        ReadOnlySpan<byte> writerSubject = default,
        ReadOnlySpan<byte> writerClient = default,
        ReadOnlySpan<byte> label = default)
    {
        WriterSubjectBytes = writerSubject;
        WriterClientBytes = writerClient;
        LabelBytes = label;
        Format = format;
        IdempotencyKeyBytes = idempotencyKey;
        FingerprintBytes = fingerprint;
        Created = created;
        EncodedLength = encodedLength;
        Type = type;
        Lsn = lsn;
        Hlc = hlc;
        OriginRegionBytes = origin;
        DotCounter = dotCounter;
        ContextBytes = context;
        KeyBytes = key;
        ContentTypeBytes = contentType;
        Value = value;
    }

    /// <summary>The record's format version (1, or 2 with tagged fields).</summary>
    public byte Format { get; }

    /// <summary>The Idempotency-Key (tag 1) as ASCII, empty when the record has none.</summary>
    public ReadOnlySpan<byte> IdempotencyKeyBytes { get; }

    /// <summary>The request fingerprint (tag 2), empty when the record has no idempotency key.</summary>
    public ReadOnlySpan<byte> FingerprintBytes { get; }

    /// <summary>The write created the key (tag 3); false without an idempotency key.</summary>
    public bool Created { get; }

    /// <summary>The writer's subject (tag 4) as UTF-8, empty when the record does not say who wrote it.</summary>
    public ReadOnlySpan<byte> WriterSubjectBytes { get; }

    /// <summary>The writer's client id (tag 4) as UTF-8, empty when none.</summary>
    public ReadOnlySpan<byte> WriterClientBytes { get; }

    /// <summary>Total size of the record in the buffer, header included.</summary>
    public int EncodedLength { get; }

    /// <summary>The record type.</summary>
    public WalRecordType Type { get; }

    /// <summary>Log sequence number.</summary>
    public ulong Lsn { get; }

    /// <summary>HLC timestamp of the write.</summary>
    public long Hlc { get; }

    /// <summary>The origin region id as ASCII bytes.</summary>
    public ReadOnlySpan<byte> OriginRegionBytes { get; }

    /// <summary>The dot counter (the dot is (origin region, counter)).</summary>
    public ulong DotCounter { get; }

    /// <summary>The causal context in the version vector encoding.</summary>
    public ReadOnlySpan<byte> ContextBytes { get; }

    /// <summary>The label (tag 129) as UTF-8, empty for the null label.</summary>
    public ReadOnlySpan<byte> LabelBytes { get; }

    /// <summary>The key as UTF-8.</summary>
    public ReadOnlySpan<byte> KeyBytes { get; }

    /// <summary>The content type as ASCII (empty for a delete).</summary>
    public ReadOnlySpan<byte> ContentTypeBytes { get; }

    /// <summary>The value bytes (empty for a delete).</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>True when the record was accepted in <paramref name="region"/> (no allocation; for replication filters).</summary>
    public bool IsFromRegion(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (region.Length != OriginRegionBytes.Length)
        {
            return false;
        }

        for (var i = 0; i < region.Length; i++)
        {
            if (region[i] != OriginRegionBytes[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The origin region id.</summary>
    public string GetOriginRegion() => RegionIdCache.Get(OriginRegionBytes);

    /// <summary>The key.</summary>
    public string GetKey() => Encoding.UTF8.GetString(KeyBytes);

    /// <summary>The label, or null for the null label.</summary>
    public string? GetLabel() => LabelBytes.IsEmpty ? null : Encoding.UTF8.GetString(LabelBytes);

    /// <summary>The entry the record writes: the key, or <c>key U+0000 label</c> (see <see cref="AzKv.Keys.Labels"/>).</summary>
    public string GetEntryKey() => AzKv.Keys.Labels.EntryKey(GetKey(), GetLabel());

    /// <summary>The content type.</summary>
    public string GetContentType() => ContentTypeBytes.IsEmpty ? string.Empty : Encoding.ASCII.GetString(ContentTypeBytes);

    /// <summary>The causal context.</summary>
    public VersionVector GetContext()
    {
        if (!VersionVector.TryRead(ContextBytes, out var context, out _))
        {
            throw new InvalidOperationException("The record's context was validated when read; the buffer changed since.");
        }

        return context;
    }

    /// <summary>The dot.</summary>
    public Dot GetDot() => new(GetOriginRegion(), DotCounter);

    /// <summary>The write clock and version, with a private copy of the value.</summary>
    public CausalWrite ToCausalWrite()
    {
        var dot = GetDot();
        var version = Type == WalRecordType.Delete
            ? VersionedValue.CreateTombstone(dot, Hlc)
            : VersionedValue.CreatePut(dot, Hlc, GetContentType(), Value.ToArray());
        return new CausalWrite(GetContext(), version);
    }

    /// <summary>The record in owned form (copies the key, content type and value).</summary>
    public WalRecord ToRecord() => new(Lsn, GetEntryKey(), ToCausalWrite(), GetIdempotency(), GetWriter());

    /// <summary>Who made the write (tag 4), or null when the record does not say.</summary>
    public WriterIdentity? GetWriter() => WriterSubjectBytes.IsEmpty ? null : WriterIdentity.FromParts(WriterSubjectBytes, WriterClientBytes);

    /// <summary>The idempotency fields, or null when the record has none.</summary>
    public WalIdempotency? GetIdempotency() =>
        IdempotencyKeyBytes.IsEmpty ? null : new WalIdempotency(Encoding.ASCII.GetString(IdempotencyKeyBytes), FingerprintBytes.ToArray(), Created);
}
