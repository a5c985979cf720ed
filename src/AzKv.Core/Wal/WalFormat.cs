using AzKv.Keys;
using AzKv.Versioning;

namespace AzKv.Wal;

/// <summary>Constants of the WAL record layout (docs/record-format.md).</summary>
internal static class WalFormat
{
    /// <summary>The format version byte written today.</summary>
    public const byte Version1 = 1;

    /// <summary>The length and CRC fields that precede the checked body.</summary>
    public const int HeaderLength = 8;

    /// <summary>Bytes of the body that do not depend on field lengths.</summary>
    public const int FixedBodyLength =
        1   // format version
        + 1 // type
        + 8 // lsn
        + 8 // hlc
        + 1 // origin length
        + 8 // dot counter
        + 1 // context count
        + 2 // key length
        + 1 // content type length
        + 4; // value length

    /// <summary>Smallest possible body: one-byte origin, empty context, one-byte key, no content type, no value.</summary>
    public const int MinBodyLength = FixedBodyLength + 1 + 1;

    /// <summary>Largest possible body under the hard caps.</summary>
    public const int MaxBodyLength =
        FixedBodyLength - 1
        + RegionId.MaxLength
        + VersionVector.MaxEncodedLength
        + KeyValidation.MaxKeyBytes
        + VersionedValue.MaxContentTypeLength
        + VersionedValue.MaxValueBytes;
}
