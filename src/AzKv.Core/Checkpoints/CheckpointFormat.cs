namespace AzKv.Checkpoints;

/// <summary>Constants of the checkpoint layout (docs/record-format.md).</summary>
internal static class CheckpointFormat
{
    /// <summary>The 8 magic bytes at offset 0.</summary>
    public static ReadOnlySpan<byte> Magic => "AZKVCKPT"u8;

    /// <summary>The format version written today.</summary>
    public const byte Version1 = 1;

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
