using System.Buffers;
using System.Text;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Partitions;

/// <summary>The engine's use of the WAL record format (docs/record-format.md).</summary>
internal static class WalCodec
{
    /// <summary>Appends one record to <paramref name="buffer"/>.</summary>
    public static void Encode(IBufferWriter<byte> buffer, long lsn, string key, CausalWrite write, WalIdempotency? idempotency = null, WriterIdentity? writer = null) =>
        WalEncoder.Write(buffer, new WalRecord((ulong)lsn, key, write, idempotency, writer));

    /// <summary>
    /// An upper bound of the encoded size of the record <paramref name="command"/> can produce
    /// (its context is not known before it is decided, so the largest possible one is assumed).
    /// </summary>
    public static int MaxEncodedLength(WriteCommand command) =>
        64
        + (command.IdempotencyKey is null ? 0 : 2 + 9 + Keys.IdempotencyKeys.MaxLength + Wal.WalTags.FingerprintLength + 1)
        + (command.Writer is null ? 0 : 2 + 3 + 2 + (2 * WriterIdentity.MaxPartBytes))
        + RegionId.MaxLength
        + VersionVector.MaxEncodedLength
        + Encoding.UTF8.GetMaxByteCount(command.Key.Length)
        + (command.Replicated is { } write
            ? Encoding.UTF8.GetMaxByteCount(write.Version.ContentType.Length) + write.Version.Value.Length
            : Encoding.UTF8.GetMaxByteCount(command.ContentType.Length) + command.Value.Length);
}

/// <summary>One decoded record of a segment.</summary>
/// <param name="Lsn">Its LSN.</param>
/// <param name="Key">Its key.</param>
/// <param name="Write">The DVV write it carries.</param>
/// <param name="Idempotency">Its idempotency fields (format 2), or null.</param>
/// <param name="Writer">Who made the write (tag 4), or null.</param>
internal sealed record ScannedRecord(long Lsn, string Key, CausalWrite Write, WalIdempotency? Idempotency = null, WriterIdentity? Writer = null);

/// <summary>The decoded contents of a segment.</summary>
/// <param name="Name">Blob name.</param>
/// <param name="ValidLength">Bytes up to the end of the last valid record.</param>
/// <param name="LastLsn">LSN of the last valid record (StartLsn − 1 when empty).</param>
/// <param name="Records">The records, in order.</param>
internal sealed record ScannedSegment(string Name, long ValidLength, long LastLsn, IReadOnlyList<ScannedRecord> Records);
