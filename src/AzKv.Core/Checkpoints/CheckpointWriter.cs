using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using AzKv.Keys;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Checkpoints;

/// <summary>
/// Writes a checkpoint (docs/record-format.md) to an <see cref="IBufferWriter{T}"/> as it goes: the header at
/// construction, one entry per <see cref="Add"/> (keys in ascending ordinal order), the CRC trailer at
/// <see cref="Complete"/>. For a <see cref="Stream"/> use <see cref="WriteAsync"/>.
/// </summary>
public sealed class CheckpointWriter
{
    private const int ChunkLength = 64 * 1024;
    private const int StreamFlushThreshold = 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IBufferWriter<byte> _output;
    private readonly long _keyCount;
    private readonly int _idempotencyCount;
    private readonly int _writerCount;
    private int _writersAdded;
    private string? _lastWriterKey;
    private int _idempotencyAdded;
    private long _lastIdempotencyLsn;
    private uint _crcState = uint.MaxValue;
    private long _written;
    private long _added;
    private string? _lastKey;
    private bool _completed;

    /// <summary>Starts a checkpoint of <paramref name="keyCount"/> keys and writes its header.</summary>
    public CheckpointWriter(IBufferWriter<byte> output, int partitionId, ulong lsn, long keyCount)
        : this(output, partitionId, lsn, keyCount, 0)
    {
    }

    /// <summary>
    /// Starts a checkpoint of <paramref name="keyCount"/> keys and <paramref name="idempotencyCount"/> idempotency
    /// entries (format 2 when there is any, added with <see cref="AddIdempotency"/> after the keys) and writes its header.
    /// </summary>
    public CheckpointWriter(IBufferWriter<byte> output, int partitionId, ulong lsn, long keyCount, int idempotencyCount)
        : this(output, partitionId, lsn, keyCount, idempotencyCount, 0)
    {
    }

    /// <summary>
    /// Starts a checkpoint that also holds <paramref name="writerCount"/> last-writer entries (format 3 when there is
    /// any, added with <see cref="AddWriter"/> after the idempotency entries) and writes its header.
    /// </summary>
    public CheckpointWriter(IBufferWriter<byte> output, int partitionId, ulong lsn, long keyCount, int idempotencyCount, int writerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(writerCount);
        _writerCount = writerCount;
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(partitionId);
        ArgumentOutOfRangeException.ThrowIfNegative(keyCount);
        ArgumentOutOfRangeException.ThrowIfNegative(idempotencyCount);
        _output = output;
        _keyCount = keyCount;
        _idempotencyCount = idempotencyCount;

        Span<byte> header = stackalloc byte[CheckpointFormat.HeaderLength];
        header.Clear();
        CheckpointFormat.Magic.CopyTo(header);
        header[8] = writerCount > 0 ? CheckpointFormat.Version3 : idempotencyCount > 0 ? CheckpointFormat.Version2 : CheckpointFormat.Version1;
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)partitionId);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], lsn);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], (ulong)keyCount);
        WriteBytes(header);
    }

    /// <summary>Bytes written so far.</summary>
    public long BytesWritten => _written;

    /// <summary>Writes the entry of one key. Keys must come in strictly ascending ordinal order.</summary>
    /// <exception cref="ArgumentException">The key is invalid or out of order, or the set has more than 255 siblings.</exception>
    /// <exception cref="InvalidOperationException">All announced keys were written already, or the writer is complete.</exception>
    public void Add(string key, SiblingSet state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (Labels.ValidateEntryKey(key) is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(key));
        }

        if (_lastKey is not null && string.CompareOrdinal(_lastKey, key) >= 0)
        {
            throw new ArgumentException($"Keys must be added in ascending ordinal order: '{key}' after '{_lastKey}'.", nameof(key));
        }

        if (state.Siblings.Length > CheckpointFormat.MaxSiblings)
        {
            throw new ArgumentException($"A checkpoint entry holds at most {CheckpointFormat.MaxSiblings} siblings.", nameof(state));
        }

        if (_completed || _added == _keyCount)
        {
            throw new InvalidOperationException($"The checkpoint announced {_keyCount} keys; no more can be added.");
        }

        if (_idempotencyAdded > 0)
        {
            throw new InvalidOperationException("Keys come before the idempotency entries.");
        }

        Span<byte> scratch = stackalloc byte[2 + Labels.MaxEntryKeyBytes];
        var keyLength = StrictUtf8.GetBytes(key, scratch[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)keyLength);
        WriteBytes(scratch[..(2 + keyLength)]);

        Span<byte> context = stackalloc byte[VersionVector.MaxEncodedLength + 1];
        var contextLength = state.Context.WriteTo(context);
        context[contextLength] = (byte)state.Siblings.Length;
        WriteBytes(context[..(contextLength + 1)]);

        Span<byte> sibling = stackalloc byte[1 + RegionId.MaxLength + 8 + 8 + 1 + 1 + VersionedValue.MaxContentTypeLength + 4];
        foreach (var version in state.Siblings)
        {
            var offset = 0;
            sibling[offset++] = (byte)version.Dot.Region.Length;
            offset += Encoding.ASCII.GetBytes(version.Dot.Region, sibling[offset..]);
            BinaryPrimitives.WriteUInt64LittleEndian(sibling[offset..], version.Dot.Counter);
            offset += 8;
            BinaryPrimitives.WriteInt64LittleEndian(sibling[offset..], version.Hlc);
            offset += 8;
            sibling[offset++] = version.IsTombstone ? CheckpointFormat.TombstoneFlag : (byte)0;
            sibling[offset++] = (byte)version.ContentType.Length;
            offset += Encoding.ASCII.GetBytes(version.ContentType, sibling[offset..]);
            BinaryPrimitives.WriteUInt32LittleEndian(sibling[offset..], (uint)version.Value.Length);
            offset += 4;
            WriteBytes(sibling[..offset]);
            WriteBytes(version.Value.Span);
        }

        _lastKey = key;
        _added++;
    }

    /// <summary>
    /// Writes one idempotency entry (format 2), after every key, in ascending LSN order: a write remembered under its
    /// Idempotency-Key, with the context it answered.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid key or id, a fingerprint that is not 32 bytes, a non-positive or out-of-order LSN, a negative HLC, or a created delete.</exception>
    /// <exception cref="InvalidOperationException">Not every key was added yet, all announced entries were written, or the writer is complete.</exception>
    public void AddIdempotency(string key, string idempotencyKey, ReadOnlySpan<byte> fingerprint, bool isDelete, bool created, long lsn, long hlc, VersionVector context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Labels.ValidateEntryKey(key) is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(key));
        }

        if (!IdempotencyKeys.IsValid(idempotencyKey) || fingerprint.Length != WalTags.FingerprintLength || lsn <= _lastIdempotencyLsn || hlc < 0 || (isDelete && created))
        {
            throw new ArgumentException("Invalid idempotency entry (id, fingerprint, LSN order, HLC or flags).", nameof(idempotencyKey));
        }

        if (_completed || _added != _keyCount || _idempotencyAdded == _idempotencyCount || _writersAdded > 0)
        {
            throw new InvalidOperationException($"Idempotency entries follow all {_keyCount} keys; {_idempotencyCount} were announced.");
        }

        Span<byte> scratch = stackalloc byte[2 + Labels.MaxEntryKeyBytes + 1 + IdempotencyKeys.MaxLength + WalTags.FingerprintLength + 1 + 8 + 8 + VersionVector.MaxEncodedLength + 4];
        var offset = 0;
        if (_idempotencyAdded == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)_idempotencyCount);
            offset += 4;
        }

        var keyLength = StrictUtf8.GetBytes(key, scratch[(offset + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(scratch[offset..], (ushort)keyLength);
        offset += 2 + keyLength;
        scratch[offset++] = (byte)idempotencyKey.Length;
        offset += Encoding.ASCII.GetBytes(idempotencyKey, scratch[offset..]);
        fingerprint.CopyTo(scratch[offset..]);
        offset += WalTags.FingerprintLength;
        scratch[offset++] = (byte)((created ? CheckpointFormat.CreatedFlag : 0) | (isDelete ? CheckpointFormat.DeleteFlag : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(scratch[offset..], (ulong)lsn);
        offset += 8;
        BinaryPrimitives.WriteInt64LittleEndian(scratch[offset..], hlc);
        offset += 8;
        offset += context.WriteTo(scratch[offset..]);
        WriteBytes(scratch[..offset]);
        _lastIdempotencyLsn = lsn;
        _idempotencyAdded++;
    }

    /// <summary>
    /// Writes one last-writer entry (format 3), after every key and idempotency entry, keys in strictly ascending
    /// ordinal order: who last wrote <paramref name="key"/> and the write's HLC.
    /// </summary>
    /// <exception cref="ArgumentException">An invalid or out-of-order key, or a negative HLC.</exception>
    /// <exception cref="InvalidOperationException">Earlier entries are missing, all announced entries were written, or the writer is complete.</exception>
    public void AddWriter(string key, WriterIdentity writer, long hlc)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var validation = KeyValidation.Validate(key);
        if (!validation.IsValid || hlc < 0 || (_lastWriterKey is not null && string.CompareOrdinal(_lastWriterKey, key) >= 0))
        {
            throw new ArgumentException("Invalid last-writer entry (key, key order or HLC).", nameof(key));
        }

        if (_completed || _added != _keyCount || _idempotencyAdded != _idempotencyCount || _writersAdded == _writerCount)
        {
            throw new InvalidOperationException($"Last-writer entries follow every key and idempotency entry; {_writerCount} were announced.");
        }

        Span<byte> scratch = stackalloc byte[4 + 4 + 2 + KeyValidation.MaxKeyBytes + 8 + 2 + (2 * WriterIdentity.MaxPartBytes)];
        var offset = 0;
        if (_writersAdded == 0)
        {
            if (_idempotencyCount == 0)
            {
                // Format 3 always has the idempotency count, even when it is zero.
                BinaryPrimitives.WriteUInt32LittleEndian(scratch, 0);
                offset += 4;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(scratch[offset..], (uint)_writerCount);
            offset += 4;
        }

        var keyLength = StrictUtf8.GetBytes(key, scratch[(offset + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(scratch[offset..], (ushort)keyLength);
        offset += 2 + keyLength;
        BinaryPrimitives.WriteInt64LittleEndian(scratch[offset..], hlc);
        offset += 8;
        offset += writer.WriteTo(scratch[offset..]);
        WriteBytes(scratch[..offset]);
        _lastWriterKey = key;
        _writersAdded++;
    }

    /// <summary>Writes the trailer (CRC-32C of every byte before it). Call once, after the last <see cref="Add"/>.</summary>
    /// <exception cref="InvalidOperationException">Fewer keys were added than announced, or already complete.</exception>
    public void Complete()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The checkpoint is already complete.");
        }

        if (_added != _keyCount)
        {
            throw new InvalidOperationException($"The checkpoint announced {_keyCount} keys but {_added} were added.");
        }

        if (_idempotencyAdded != _idempotencyCount)
        {
            throw new InvalidOperationException($"The checkpoint announced {_idempotencyCount} idempotency entries but {_idempotencyAdded} were added.");
        }

        if (_writersAdded != _writerCount)
        {
            throw new InvalidOperationException($"The checkpoint announced {_writerCount} last-writer entries but {_writersAdded} were added.");
        }

        Span<byte> trailer = stackalloc byte[CheckpointFormat.TrailerLength];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, ~_crcState);
        var span = _output.GetSpan(trailer.Length);
        trailer.CopyTo(span);
        _output.Advance(trailer.Length);
        _written += trailer.Length;
        _completed = true;
    }

    /// <summary>
    /// Writes a whole checkpoint of <paramref name="entries"/> (ascending ordinal key order) to
    /// <paramref name="destination"/>, buffering about 1 MiB at a time.
    /// </summary>
    /// <returns>The checkpoint's length in bytes.</returns>
    public static async Task<long> WriteAsync(
        Stream destination,
        int partitionId,
        ulong lsn,
        IReadOnlyCollection<KeyValuePair<string, SiblingSet>> entries,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(entries);
        var buffer = new ArrayBufferWriter<byte>(StreamFlushThreshold + ChunkLength);
        var writer = new CheckpointWriter(buffer, partitionId, lsn, entries.Count);
        foreach (var (key, state) in entries)
        {
            writer.Add(key, state);
            if (buffer.WrittenCount >= StreamFlushThreshold)
            {
                await destination.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                buffer.ResetWrittenCount();
            }
        }

        writer.Complete();
        await destination.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        return writer.BytesWritten;
    }

    private void WriteBytes(ReadOnlySpan<byte> data)
    {
        _crcState = Crc32C.Update(_crcState, data);
        _written += data.Length;
        while (!data.IsEmpty)
        {
            var span = _output.GetSpan(Math.Min(data.Length, ChunkLength));
            var count = Math.Min(span.Length, data.Length);
            data[..count].CopyTo(span);
            _output.Advance(count);
            data = data[count..];
        }
    }
}
