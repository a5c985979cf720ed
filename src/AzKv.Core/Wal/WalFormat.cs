using AzKv.Keys;
using AzKv.Versioning;

namespace AzKv.Wal;

/// <summary>Constants of the WAL record layout (docs/record-format.md).</summary>
internal static class WalFormat
{
    /// <summary>Format 1: the record ends with the value. Written when a record carries no tagged field.</summary>
    public const byte Version1 = 1;

    /// <summary>Format 2: format 1 followed by a block of tagged optional fields (see <see cref="WalTags"/>).</summary>
    public const byte Version2 = 2;

    /// <summary>Largest tagged-field block (after its u16 length): room for today's fields and later ones.</summary>
    public const int MaxTaggedFieldsLength = 4096;

    /// <summary>Tag (u8) and length (u16) in front of each tagged field.</summary>
    public const int TaggedFieldHeaderLength = 3;

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
        + VersionedValue.MaxValueBytes
        + 2 // tagged-field block length (format 2)
        + MaxTaggedFieldsLength;
}
