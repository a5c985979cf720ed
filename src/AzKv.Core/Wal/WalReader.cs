using System.Buffers.Binary;
using AzKv.Keys;
using AzKv.Versioning;

namespace AzKv.Wal;

/// <summary>
/// Decodes WAL records (docs/record-format.md). Never throws on any input: every outcome is a
/// <see cref="WalReadStatus"/>.
/// </summary>
public static class WalReader
{
    /// <summary>
    /// Decodes the record at the start of <paramref name="buffer"/>. On <see cref="WalReadStatus.Ok"/>,
    /// <paramref name="consumed"/> is the record's length; otherwise it is 0 and <paramref name="record"/> is default.
    /// </summary>
    public static WalReadStatus TryReadNext(ReadOnlySpan<byte> buffer, out WalRecordView record, out int consumed) =>
        TryReadNext(buffer, out record, out consumed, out _);

    /// <summary>As <see cref="TryReadNext(ReadOnlySpan{byte}, out WalRecordView, out int)"/>, also saying why a record is corrupt.</summary>
    public static WalReadStatus TryReadNext(
        ReadOnlySpan<byte> buffer,
        out WalRecordView record,
        out int consumed,
        out WalCorruption corruption)
    {
        record = default;
        consumed = 0;
        corruption = WalCorruption.None;

        if (buffer.Length < 4)
        {
            return WalReadStatus.Incomplete;
        }

        var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        if (bodyLength < WalFormat.MinBodyLength || bodyLength > WalFormat.MaxBodyLength)
        {
            corruption = WalCorruption.LengthOutOfRange;
            return WalReadStatus.Corrupt;
        }

        var total = WalFormat.HeaderLength + (int)bodyLength;
        if (buffer.Length < total)
        {
            return WalReadStatus.Incomplete;
        }

        var body = buffer.Slice(WalFormat.HeaderLength, (int)bodyLength);
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]))
        {
            corruption = WalCorruption.ChecksumMismatch;
            return WalReadStatus.Corrupt;
        }

        corruption = TryParseBody(body, total, out record);
        if (corruption != WalCorruption.None)
        {
            record = default;
            return WalReadStatus.Corrupt;
        }

        consumed = total;
        return WalReadStatus.Ok;
    }

    /// <summary>
    /// The total length of the record starting at <paramref name="buffer"/> (header included), read from its length
    /// field alone: how many bytes to fetch after an <see cref="WalReadStatus.Incomplete"/>. False when fewer than 4
    /// bytes are available or the length is out of range.
    /// </summary>
    public static bool TryPeekLength(ReadOnlySpan<byte> buffer, out int recordLength)
    {
        recordLength = 0;
        if (buffer.Length < 4)
        {
            return false;
        }

        var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        if (bodyLength < WalFormat.MinBodyLength || bodyLength > WalFormat.MaxBodyLength)
        {
            return false;
        }

        recordLength = WalFormat.HeaderLength + (int)bodyLength;
        return true;
    }

    private static WalCorruption TryParseBody(ReadOnlySpan<byte> body, int total, out WalRecordView record)
    {
        record = default;

        // The minimum body length guarantees the fixed prefix up to the origin length byte is present.
        var format = body[0];
        if (format is not (WalFormat.Version1 or WalFormat.Version2))
        {
            return WalCorruption.UnsupportedFormat;
        }

        var type = (WalRecordType)body[1];
        if (type is not (WalRecordType.Put or WalRecordType.Delete))
        {
            return WalCorruption.UnknownType;
        }

        var lsn = BinaryPrimitives.ReadUInt64LittleEndian(body[2..]);
        var hlc = BinaryPrimitives.ReadInt64LittleEndian(body[10..]);
        if (hlc < 0)
        {
            return WalCorruption.InvalidHlc;
        }

        var offset = 18;
        int originLength = body[offset++];
        if (body.Length - offset < originLength + 8)
        {
            return WalCorruption.LengthMismatch;
        }

        var origin = body.Slice(offset, originLength);
        if (!RegionId.IsValid(origin))
        {
            return WalCorruption.InvalidOrigin;
        }

        offset += originLength;
        var dotCounter = BinaryPrimitives.ReadUInt64LittleEndian(body[offset..]);
        offset += 8;
        if (dotCounter == 0)
        {
            return WalCorruption.InvalidDot;
        }

        if (!VersionVector.TryValidate(body[offset..], origin, out var contextLength, out var originInContext))
        {
            return WalCorruption.InvalidContext;
        }

        if (originInContext >= dotCounter)
        {
            return WalCorruption.InvalidDot;
        }

        var context = body.Slice(offset, contextLength);
        offset += contextLength;

        if (body.Length - offset < 2)
        {
            return WalCorruption.LengthMismatch;
        }

        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(body[offset..]);
        offset += 2;
        if (body.Length - offset < keyLength)
        {
            return WalCorruption.LengthMismatch;
        }

        var key = body.Slice(offset, keyLength);
        if (!KeyValidation.ValidateUtf8(key).IsValid)
        {
            return WalCorruption.InvalidKey;
        }

        offset += keyLength;
        if (body.Length - offset < 1)
        {
            return WalCorruption.LengthMismatch;
        }

        int contentTypeLength = body[offset++];
        if (body.Length - offset < contentTypeLength)
        {
            return WalCorruption.LengthMismatch;
        }

        var contentType = body.Slice(offset, contentTypeLength);
        foreach (var b in contentType)
        {
            if (b < 0x20 || b > 0x7E)
            {
                return WalCorruption.InvalidContentType;
            }
        }

        offset += contentTypeLength;
        if (body.Length - offset < 4)
        {
            return WalCorruption.LengthMismatch;
        }

        var valueLength = BinaryPrimitives.ReadUInt32LittleEndian(body[offset..]);
        offset += 4;
        if (valueLength > VersionedValue.MaxValueBytes)
        {
            return WalCorruption.InvalidValue;
        }

        var rest = (uint)(body.Length - offset);
        if (format == WalFormat.Version1 ? rest != valueLength : rest < valueLength)
        {
            return WalCorruption.LengthMismatch;
        }

        var value = body.Slice(offset, (int)valueLength);
        if (type == WalRecordType.Delete && (contentTypeLength != 0 || valueLength != 0))
        {
            return WalCorruption.InvalidTombstone;
        }

        offset += (int)valueLength;
        ReadOnlySpan<byte> idempotencyKey = default;
        ReadOnlySpan<byte> fingerprint = default;
        ReadOnlySpan<byte> label = default;
        var created = false;
        ReadOnlySpan<byte> writerSubject = default;
        ReadOnlySpan<byte> writerClient = default;
        if (format == WalFormat.Version2)
        {
            var tagged = TryParseTaggedFields(body[offset..], out idempotencyKey, out fingerprint, out created, out writerSubject, out writerClient, out label);
            if (tagged != WalCorruption.None)
            {
                return tagged;
            }
        }

        record = new WalRecordView(total, type, lsn, hlc, origin, dotCounter, context, key, contentType, value, format, idempotencyKey, fingerprint, created, writerSubject, writerClient, label);
        return WalCorruption.None;
    }

    /// <summary>
    /// The format 2 block: u16 length (must fill the rest of the record exactly), then tagged fields in strictly
    /// ascending tag order. Unknown tags below <see cref="WalTags.FirstMustUnderstand"/> are skipped.
    /// </summary>
    private static WalCorruption TryParseTaggedFields(
        ReadOnlySpan<byte> block,
        out ReadOnlySpan<byte> idempotencyKey,
        out ReadOnlySpan<byte> fingerprint,
        out bool created,
        out ReadOnlySpan<byte> writerSubject,
        out ReadOnlySpan<byte> writerClient,
        out ReadOnlySpan<byte> label)
    {
        writerSubject = default;
        writerClient = default;
        label = default;
        idempotencyKey = default;
        fingerprint = default;
        created = false;
        if (block.Length < 2)
        {
            return WalCorruption.LengthMismatch;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(block);
        if (length > WalFormat.MaxTaggedFieldsLength)
        {
            return WalCorruption.InvalidTaggedField;
        }

        if (block.Length - 2 != length)
        {
            return WalCorruption.LengthMismatch;
        }

        var fields = block[2..];
        var lastTag = 0;
        var outcomeSeen = false;
        while (!fields.IsEmpty)
        {
            if (fields.Length < WalFormat.TaggedFieldHeaderLength)
            {
                return WalCorruption.InvalidTaggedField;
            }

            var tag = fields[0];
            int fieldLength = BinaryPrimitives.ReadUInt16LittleEndian(fields[1..]);
            if (tag == 0 || tag <= lastTag || fields.Length - WalFormat.TaggedFieldHeaderLength < fieldLength)
            {
                return WalCorruption.InvalidTaggedField;
            }

            var value = fields.Slice(WalFormat.TaggedFieldHeaderLength, fieldLength);
            switch (tag)
            {
                case WalTags.IdempotencyKey when IdempotencyKeys.IsValid(value):
                    idempotencyKey = value;
                    break;
                case WalTags.RequestFingerprint when value.Length == WalTags.FingerprintLength:
                    fingerprint = value;
                    break;
                case WalTags.WriteOutcome when value.Length == 1 && (value[0] & ~WalTags.CreatedFlag) == 0:
                    created = value[0] == WalTags.CreatedFlag;
                    outcomeSeen = true;
                    break;
                case WalTags.Writer when WriterIdentity.TryParse(value, out writerSubject, out writerClient):
                    break;
                case WalTags.Label when Labels.IsValidUtf8(value) && !value.IsEmpty:
                    label = value;
                    break;
                case WalTags.IdempotencyKey or WalTags.RequestFingerprint or WalTags.WriteOutcome or WalTags.Writer or WalTags.Label:
                    return WalCorruption.InvalidTaggedField;
                case >= WalTags.FirstMustUnderstand:
                    return WalCorruption.InvalidTaggedField;
                default:
                    break; // an optional field this reader does not know
            }

            lastTag = tag;
            fields = fields[(WalFormat.TaggedFieldHeaderLength + fieldLength)..];
        }

        // The idempotency fields come together or not at all.
        var any = !idempotencyKey.IsEmpty || !fingerprint.IsEmpty || outcomeSeen;
        var all = !idempotencyKey.IsEmpty && !fingerprint.IsEmpty && outcomeSeen;
        return any && !all ? WalCorruption.InvalidTaggedField : WalCorruption.None;
    }
}
