using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using AzKv.Keys;
using AzKv.Versioning;

namespace AzKv.Wal;

/// <summary>
/// Encodes WAL records (docs/record-format.md). Writes straight into the destination span or
/// <see cref="IBufferWriter{T}"/>: no allocation per record.
/// </summary>
public static class WalEncoder
{
    /// <summary>Largest possible encoded record, header included.</summary>
    public const int MaxRecordLength = WalFormat.HeaderLength + WalFormat.MaxBodyLength;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encoded size of <paramref name="record"/> in bytes, header included.</summary>
    public static int GetEncodedLength(in WalRecord record)
    {
        ThrowIfDefault(record);
        var (keyBytes, labelBytes) = Labels.Utf8Lengths(record.Key);
        var tagged = TaggedFieldsLength(record, labelBytes);
        return WalFormat.HeaderLength
            + WalFormat.FixedBodyLength - 1
            + record.OriginRegion.Length
            + record.Context.GetEncodedLength()
            + keyBytes
            + record.ContentType.Length
            + record.Value.Length
            + (tagged > 0 ? 2 + tagged : 0);
    }

    /// <summary>Bytes of the tagged fields (without the block's u16 length); 0 for a format 1 record.</summary>
    private static int TaggedFieldsLength(in WalRecord record, int labelBytes) =>
        (record.Idempotency?.EncodedLength ?? 0)
        + (record.Writer is null ? 0 : WalFormat.TaggedFieldHeaderLength + record.Writer.EncodedLength)
        + (labelBytes >= 0 ? WalFormat.TaggedFieldHeaderLength + labelBytes : 0);

    /// <summary>Encodes one record at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is too small, or the record is default.</exception>
    public static int Encode(in WalRecord record, Span<byte> destination)
    {
        var length = GetEncodedLength(record);
        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination needs {length} bytes; it has {destination.Length}.", nameof(destination));
        }

        var span = destination[..length];
        var write = record.Write;
        var version = write.Version;
        var offset = WalFormat.HeaderLength;

        span[offset++] = record.Format;
        span[offset++] = (byte)record.Type;
        BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], record.Lsn);
        offset += 8;
        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], version.Hlc);
        offset += 8;

        var origin = version.Dot.Region;
        span[offset++] = (byte)origin.Length;
        offset += Encoding.ASCII.GetBytes(origin, span[offset..]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], version.Dot.Counter);
        offset += 8;

        offset += write.Context.WriteTo(span[offset..]);

        var keyLengthAt = offset;
        offset += 2;
        var separator = record.Key.IndexOf(Labels.Separator, StringComparison.Ordinal);
        var keyLength = StrictUtf8.GetBytes(separator < 0 ? record.Key : record.Key.AsSpan(0, separator), span[offset..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span[keyLengthAt..], (ushort)keyLength);
        offset += keyLength;

        span[offset++] = (byte)version.ContentType.Length;
        offset += Encoding.ASCII.GetBytes(version.ContentType, span[offset..]);

        BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)version.Value.Length);
        offset += 4;
        version.Value.Span.CopyTo(span[offset..]);
        offset += version.Value.Length;

        if (record.Format == WalFormat.Version2)
        {
            offset += WriteTaggedFields(record, separator < 0 ? null : record.Key[(separator + 1)..], span[offset..]);
        }

        var body = span[WalFormat.HeaderLength..offset];
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Crc32C.Compute(body));
        return offset;
    }

    /// <summary>Appends one record to <paramref name="writer"/>; returns the bytes written.</summary>
    public static int Write(IBufferWriter<byte> writer, in WalRecord record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = GetEncodedLength(record);
        var written = Encode(record, writer.GetSpan(length));
        writer.Advance(written);
        return written;
    }

    /// <summary>Appends a batch of records, in order, to <paramref name="writer"/>; returns the bytes written.</summary>
    public static long WriteBatch(IBufferWriter<byte> writer, ReadOnlySpan<WalRecord> records)
    {
        long total = 0;
        foreach (ref readonly var record in records)
        {
            total += Write(writer, record);
        }

        return total;
    }

    /// <summary>Size of a whole batch in bytes.</summary>
    public static long GetEncodedLength(ReadOnlySpan<WalRecord> records)
    {
        long total = 0;
        foreach (ref readonly var record in records)
        {
            total += GetEncodedLength(record);
        }

        return total;
    }

    /// <summary>The format 2 block: u16 length, then the tagged fields in ascending tag order (1–3, 4, then 129).</summary>
    private static int WriteTaggedFields(in WalRecord record, string? label, Span<byte> span)
    {
        var offset = 2;
        if (record.Idempotency is { } idempotency)
        {
            offset += WriteField(span[offset..], WalTags.IdempotencyKey, idempotency.Key.Length);
            offset += Encoding.ASCII.GetBytes(idempotency.Key, span[offset..]);
            offset += WriteField(span[offset..], WalTags.RequestFingerprint, WalTags.FingerprintLength);
            idempotency.Fingerprint.Span.CopyTo(span[offset..]);
            offset += WalTags.FingerprintLength;
            offset += WriteField(span[offset..], WalTags.WriteOutcome, 1);
            span[offset++] = idempotency.Created ? WalTags.CreatedFlag : (byte)0;
        }

        if (record.Writer is { } writer)
        {
            offset += WriteField(span[offset..], WalTags.Writer, writer.EncodedLength);
            offset += writer.WriteTo(span[offset..]);
        }

        if (label is not null)
        {
            var labelLength = StrictUtf8.GetBytes(label, span[(offset + WalFormat.TaggedFieldHeaderLength)..]);
            offset += WriteField(span[offset..], WalTags.Label, labelLength);
            offset += labelLength;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(offset - 2));
        return offset;
    }

    private static int WriteField(Span<byte> destination, byte tag, int length)
    {
        destination[0] = tag;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)length);
        return WalFormat.TaggedFieldHeaderLength;
    }

    private static void ThrowIfDefault(in WalRecord record)
    {
        if (record.Key is null || record.Write is null)
        {
            throw new ArgumentException("The record is default (uninitialized).", nameof(record));
        }
    }
}
