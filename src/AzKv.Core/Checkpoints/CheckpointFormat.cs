namespace AzKv.Checkpoints;

/// <summary>Constants of the checkpoint layout (docs/record-format.md).</summary>
internal static class CheckpointFormat
{
    /// <summary>The 8 magic bytes at offset 0.</summary>
    public static ReadOnlySpan<byte> Magic => "AZKVCKPT"u8;

    /// <summary>Format 1: header, key entries, trailer. Written when there is no idempotency entry.</summary>
    public const byte Version1 = 1;

    /// <summary>Format 2: format 1 with an idempotency section between the key entries and the trailer.</summary>
    public const byte Version2 = 2;

    /// <summary>
    /// Format 3: an idempotency section (its count may be 0) and then a last-writer section, between the key
    /// entries and the trailer. Written when some key has a known last writer.
    /// </summary>
    public const byte Version3 = 3;

    /// <summary>Smallest last-writer entry: key length, 1-byte key, HLC, 1-byte subject, client length.</summary>
    public const int MinWriterEntryLength = 2 + 1 + 8 + 1 + 1 + 1;

    /// <summary>Idempotency entry flag: the write created its key.</summary>
    public const byte CreatedFlag = 0x01;

    /// <summary>Idempotency entry flag: the write was a delete.</summary>
    public const byte DeleteFlag = 0x02;

    /// <summary>Smallest idempotency entry: key length + 1-byte key, id length + 1-byte id, fingerprint, flags, lsn, hlc, empty context.</summary>
    public const int MinIdempotencyEntryLength = 2 + 1 + 1 + 1 + 32 + 1 + 8 + 8 + 1;

    /// <summary>magic(8) version(1) reserved(3) partition(4) lsn(8) key count(8).</summary>
    public const int HeaderLength = 32;

    /// <summary>The CRC-32C trailer.</summary>
    public const int TrailerLength = 4;

    /// <summary>Smallest key entry: key length, 1-byte key, empty context, sibling count.</summary>
    public const int MinEntryLength = 2 + 1 + 1 + 1;

    /// <summary>Most siblings one key entry can hold (one-byte count).</summary>
    public const int MaxSiblings = byte.MaxValue;

    /// <summary>Sibling flag: the sibling is a tombstone. Other bits are reserved and must be 0.</summary>
    public const byte TombstoneFlag = 0x01;
}
