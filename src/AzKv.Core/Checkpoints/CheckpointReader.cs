using System.Buffers.Binary;
using System.Text;
using AzKv.Keys;
using AzKv.Partitions;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Checkpoints;

/// <summary>
/// Reads a checkpoint (docs/record-format.md) from memory. <see cref="Open"/> checks the magic, the format version
/// and the CRC trailer before any entry is handed out; entries are then read in order with <see cref="TryReadNext"/>.
/// Every defect raises <see cref="CorruptDataException"/> naming the source and the byte offset.
/// </summary>
public sealed class CheckpointReader
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly string _sourceName;
    private readonly int _entriesEnd;
    private int _offset;
    private long _read;
    private string? _lastKey;
    private List<IdempotencyEntry>? _idempotency;
    private List<KeyValuePair<string, Partitions.LastWrite>>? _writers;

    private CheckpointReader(ReadOnlyMemory<byte> data, string sourceName, CheckpointHeader header)
    {
        _data = data;
        _sourceName = sourceName;
        Header = header;
        _offset = CheckpointFormat.HeaderLength;
        _entriesEnd = data.Length - CheckpointFormat.TrailerLength;
    }

    /// <summary>The checkpoint's header.</summary>
    public CheckpointHeader Header { get; }

    /// <summary>Validates the whole checkpoint's framing and returns a reader positioned at the first entry.</summary>
    /// <param name="data">The checkpoint bytes; values read are copied, so the memory may be reused afterwards.</param>
    /// <param name="sourceName">The blob name, for error messages.</param>
    /// <exception cref="CorruptDataException">Bad magic, version, reserved bytes, length or CRC.</exception>
    public static CheckpointReader Open(ReadOnlyMemory<byte> data, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        var span = data.Span;
        if (span.Length < CheckpointFormat.HeaderLength + CheckpointFormat.TrailerLength)
        {
            throw new CorruptDataException(sourceName, 0, $"A checkpoint is at least {CheckpointFormat.HeaderLength + CheckpointFormat.TrailerLength} bytes; this one has {span.Length}.");
        }

        if (!span[..8].SequenceEqual(CheckpointFormat.Magic))
        {
            throw new CorruptDataException(sourceName, 0, "Bad magic: not an AzKv checkpoint.");
        }

        if (span[8] is not (CheckpointFormat.Version1 or CheckpointFormat.Version2 or CheckpointFormat.Version3))
        {
            throw new CorruptDataException(sourceName, 8, $"Unsupported checkpoint format version {span[8]}.");
        }

        var trailerAt = span.Length - CheckpointFormat.TrailerLength;
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(span[trailerAt..]);
        var actual = Crc32C.Compute(span[..trailerAt]);
        if (expected != actual)
        {
            throw new CorruptDataException(sourceName, trailerAt, $"CRC-32C mismatch (stored 0x{expected:X8}, computed 0x{actual:X8}): the checkpoint is truncated or damaged.");
        }

        if (span[9] != 0 || span[10] != 0 || span[11] != 0)
        {
            throw new CorruptDataException(sourceName, 9, "Reserved header bytes are not zero.");
        }

        var partition = BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        if (partition > int.MaxValue)
        {
            throw new CorruptDataException(sourceName, 12, $"Partition id {partition} is out of range.");
        }

        var lsn = BinaryPrimitives.ReadUInt64LittleEndian(span[16..]);
        var keyCount = BinaryPrimitives.ReadUInt64LittleEndian(span[24..]);
        var entryBytes = trailerAt - CheckpointFormat.HeaderLength;
        if (keyCount > (ulong)(entryBytes / CheckpointFormat.MinEntryLength))
        {
            throw new CorruptDataException(sourceName, 24, $"Key count {keyCount} cannot fit in {entryBytes} bytes.");
        }

        return new CheckpointReader(data, sourceName, new CheckpointHeader((int)partition, lsn, (long)keyCount, span[8]));
    }

    /// <summary>Reads a whole checkpoint from <paramref name="source"/> into memory and opens it.</summary>
    public static async Task<CheckpointReader> OpenAsync(Stream source, string sourceName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var copy = source.CanSeek ? new MemoryStream(checked((int)Math.Max(0, source.Length - source.Position))) : new MemoryStream();
        await source.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        return Open(copy.GetBuffer().AsMemory(0, (int)copy.Length), sourceName);
    }

    /// <summary>
    /// Reads the next key and its state; false after the last one (having checked that the entries end exactly at
    /// the trailer).
    /// </summary>
    /// <exception cref="CorruptDataException">A malformed entry.</exception>
    public bool TryReadNext(out string key, out SiblingSet state)
    {
        key = string.Empty;
        state = SiblingSet.Empty;
        if (_read == Header.KeyCount)
        {
            if (Header.Format >= CheckpointFormat.Version2 && _idempotency is null)
            {
                _idempotency = ReadIdempotencySection(allowEmpty: Header.Format == CheckpointFormat.Version3);
            }

            if (Header.Format == CheckpointFormat.Version3 && _writers is null)
            {
                _writers = ReadWriterSection();
            }

            if (_offset != _entriesEnd)
            {
                throw Corrupt(_offset, $"{_entriesEnd - _offset} unexpected bytes after the last entry.");
            }

            return false;
        }

        var span = _data.Span[.._entriesEnd];
        var entryStart = _offset;
        var offset = _offset;

        Need(span, offset, 2, "key length");
        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
        offset += 2;
        Need(span, offset, keyLength, "key");
        var keyBytes = span.Slice(offset, keyLength);
        if (!Labels.IsValidEntryKeyUtf8(keyBytes))
        {
            var validation = KeyValidation.ValidateUtf8(keyBytes);
            throw Corrupt(offset, validation.IsValid ? "Invalid label." : $"Invalid key: {validation.Message}");
        }

        key = Encoding.UTF8.GetString(keyBytes);
        if (_lastKey is not null && string.CompareOrdinal(_lastKey, key) >= 0)
        {
            throw Corrupt(entryStart, $"Key '{key}' is not after '{_lastKey}' in ordinal order.");
        }

        offset += keyLength;
        if (!VersionVector.TryRead(span[offset..], out var context, out var contextLength))
        {
            throw Corrupt(offset, "Invalid causal context encoding.");
        }

        offset += contextLength;
        Need(span, offset, 1, "sibling count");
        int siblingCount = span[offset++];
        var siblings = new VersionedValue[siblingCount];
        for (var i = 0; i < siblingCount; i++)
        {
            siblings[i] = ReadSibling(span, ref offset);
        }

        if (!SiblingSet.TryCreate(context, siblings, out state, out var error))
        {
            throw Corrupt(entryStart, error ?? "Invalid sibling set.");
        }

        _offset = offset;
        _lastKey = key;
        _read++;
        return true;
    }

    /// <summary>Reads every remaining entry.</summary>
    /// <exception cref="CorruptDataException">A malformed entry.</exception>
    public IReadOnlyList<KeyValuePair<string, SiblingSet>> ReadAll()
    {
        var entries = new List<KeyValuePair<string, SiblingSet>>((int)Math.Min(Header.KeyCount - _read, 1 << 20));
        while (TryReadNext(out var key, out var state))
        {
            entries.Add(new KeyValuePair<string, SiblingSet>(key, state));
        }

        return entries;
    }

    /// <summary>
    /// The idempotency entries (format 2; empty for format 1), in LSN order. Available once every key was read
    /// (<see cref="TryReadNext"/> returned false, or after <see cref="ReadAll"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Keys remain to be read.</exception>
    public IReadOnlyList<IdempotencyEntry> IdempotencyEntries =>
        _read == Header.KeyCount && (_idempotency is not null || Header.Format == CheckpointFormat.Version1)
            ? (IReadOnlyList<IdempotencyEntry>?)_idempotency ?? []
            : throw new InvalidOperationException("Read every key entry first.");

    /// <summary>
    /// The last-writer entries (format 3; empty otherwise), in key order. Available once every key was read.
    /// </summary>
    /// <exception cref="InvalidOperationException">Keys remain to be read.</exception>
    public IReadOnlyList<KeyValuePair<string, Partitions.LastWrite>> Writers =>
        _read == Header.KeyCount && (_writers is not null || Header.Format != CheckpointFormat.Version3)
            ? (IReadOnlyList<KeyValuePair<string, Partitions.LastWrite>>?)_writers ?? []
            : throw new InvalidOperationException("Read every key entry first.");

    private List<KeyValuePair<string, Partitions.LastWrite>> ReadWriterSection()
    {
        var span = _data.Span[.._entriesEnd];
        var offset = _offset;
        Need(span, offset, 4, "last-writer count");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
        offset += 4;
        if (count == 0 || count > (uint)((span.Length - offset) / CheckpointFormat.MinWriterEntryLength))
        {
            throw Corrupt(offset - 4, $"Last-writer entry count {count} is zero or cannot fit.");
        }

        var entries = new List<KeyValuePair<string, Partitions.LastWrite>>((int)count);
        string? lastKey = null;
        for (var i = 0; i < count; i++)
        {
            var entryStart = offset;
            Need(span, offset, 2, "last-writer key length");
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
            offset += 2;
            Need(span, offset, keyLength + 8 + 1, "last-writer entry");
            var keyBytes = span.Slice(offset, keyLength);
            if (!KeyValidation.ValidateUtf8(keyBytes).IsValid)
            {
                throw Corrupt(offset, "Invalid key in a last-writer entry.");
            }

            var key = Encoding.UTF8.GetString(keyBytes);
            offset += keyLength;
            var hlc = BinaryPrimitives.ReadInt64LittleEndian(span[offset..]);
            offset += 8;
            int subjectLength = span[offset];
            Need(span, offset, 1 + subjectLength + 1, "last-writer subject");
            int clientLength = span[offset + 1 + subjectLength];
            var valueLength = 2 + subjectLength + clientLength;
            Need(span, offset, valueLength, "last-writer client id");
            if (hlc < 0 || (lastKey is not null && string.CompareOrdinal(lastKey, key) >= 0)
                || !WriterIdentity.TryParse(span.Slice(offset, valueLength), out var subject, out var client))
            {
                throw Corrupt(entryStart, "Invalid last-writer entry (key order, HLC or identity).");
            }

            offset += valueLength;
            entries.Add(new(key, new Partitions.LastWrite(WriterIdentity.FromParts(subject, client), hlc)));
            lastKey = key;
        }

        _offset = offset;
        return entries;
    }

    private List<IdempotencyEntry> ReadIdempotencySection(bool allowEmpty)
    {
        var span = _data.Span[.._entriesEnd];
        var offset = _offset;
        Need(span, offset, 4, "idempotency count");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
        offset += 4;
        if ((count == 0 && !allowEmpty) || count > (uint)((span.Length - offset) / CheckpointFormat.MinIdempotencyEntryLength))
        {
            throw Corrupt(offset - 4, $"Idempotency entry count {count} is zero or cannot fit.");
        }

        var entries = new List<IdempotencyEntry>((int)count);
        long lastLsn = 0;
        for (var i = 0; i < count; i++)
        {
            var entryStart = offset;
            Need(span, offset, 2, "idempotency key length");
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
            offset += 2;
            Need(span, offset, keyLength + 1, "idempotency key");
            var keyBytes = span.Slice(offset, keyLength);
            if (!Labels.IsValidEntryKeyUtf8(keyBytes))
            {
                throw Corrupt(offset, "Invalid key in an idempotency entry.");
            }

            offset += keyLength;
            int idLength = span[offset++];
            Need(span, offset, idLength + WalTags.FingerprintLength + 1 + 8 + 8, "idempotency entry");
            var id = span.Slice(offset, idLength);
            if (!IdempotencyKeys.IsValid(id))
            {
                throw Corrupt(offset, "Invalid Idempotency-Key in an idempotency entry.");
            }

            offset += idLength;
            var fingerprint = span.Slice(offset, WalTags.FingerprintLength).ToArray();
            offset += WalTags.FingerprintLength;
            var flags = span[offset++];
            var lsn = BinaryPrimitives.ReadUInt64LittleEndian(span[offset..]);
            offset += 8;
            var hlc = BinaryPrimitives.ReadInt64LittleEndian(span[offset..]);
            offset += 8;
            var isDelete = (flags & CheckpointFormat.DeleteFlag) != 0;
            var created = (flags & CheckpointFormat.CreatedFlag) != 0;
            if ((flags & ~(CheckpointFormat.DeleteFlag | CheckpointFormat.CreatedFlag)) != 0 || (isDelete && created)
                || lsn == 0 || lsn > Header.Lsn || (long)lsn <= lastLsn || hlc < 0)
            {
                throw Corrupt(entryStart, "Invalid idempotency entry flags, LSN (out of order or past the checkpoint) or HLC.");
            }

            if (!VersionVector.TryRead(span[offset..], out var context, out var contextLength))
            {
                throw Corrupt(offset, "Invalid context encoding in an idempotency entry.");
            }

            offset += contextLength;
            lastLsn = (long)lsn;
            entries.Add(new IdempotencyEntry(
                Encoding.UTF8.GetString(keyBytes), Encoding.ASCII.GetString(id), fingerprint, isDelete, created, context, (long)lsn, hlc));
        }

        _offset = offset;
        return entries;
    }

    private VersionedValue ReadSibling(ReadOnlySpan<byte> span, ref int offset)
    {
        var siblingStart = offset;
        Need(span, offset, 1, "sibling region length");
        int regionLength = span[offset++];
        Need(span, offset, regionLength + 8 + 8 + 1 + 1, "sibling header");
        var region = span.Slice(offset, regionLength);
        if (!RegionId.IsValid(region))
        {
            throw Corrupt(offset, "Invalid sibling region id.");
        }

        offset += regionLength;
        var counter = BinaryPrimitives.ReadUInt64LittleEndian(span[offset..]);
        offset += 8;
        var hlc = BinaryPrimitives.ReadInt64LittleEndian(span[offset..]);
        offset += 8;
        var flags = span[offset++];
        int contentTypeLength = span[offset++];
        if (counter == 0 || hlc < 0 || (flags & ~CheckpointFormat.TombstoneFlag) != 0)
        {
            throw Corrupt(siblingStart, "Invalid sibling dot counter, HLC or flags.");
        }

        Need(span, offset, contentTypeLength + 4, "content type");
        var contentTypeBytes = span.Slice(offset, contentTypeLength);
        foreach (var b in contentTypeBytes)
        {
            if (b < 0x20 || b > 0x7E)
            {
                throw Corrupt(offset, "Content type is not printable ASCII.");
            }
        }

        offset += contentTypeLength;
        var valueLength = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
        offset += 4;
        if (valueLength > VersionedValue.MaxValueBytes)
        {
            throw Corrupt(offset - 4, $"Value length {valueLength} is over the hard cap.");
        }

        Need(span, offset, (int)valueLength, "value");
        var isTombstone = (flags & CheckpointFormat.TombstoneFlag) != 0;
        if (isTombstone && (contentTypeLength != 0 || valueLength != 0))
        {
            throw Corrupt(siblingStart, "A tombstone carries a value or a content type.");
        }

        var value = span.Slice(offset, (int)valueLength).ToArray();
        offset += (int)valueLength;
        var dot = new Dot(RegionIdCache.Get(region), counter);
        var contentType = contentTypeLength == 0 ? string.Empty : Encoding.ASCII.GetString(contentTypeBytes);
        return new VersionedValue(dot, hlc, isTombstone, contentType, value);
    }

    private void Need(ReadOnlySpan<byte> span, int offset, int count, string field)
    {
        if (span.Length - offset < count)
        {
            throw Corrupt(offset, $"The entry ends inside its {field}.");
        }
    }

    private CorruptDataException Corrupt(long offset, string reason) => new(_sourceName, offset, reason);
}
