namespace AzKv.Wal;

/// <summary>Why a WAL record decoded as <see cref="WalReadStatus.Corrupt"/> (for logs and exception messages).</summary>
public enum WalCorruption
{
    /// <summary>Not corrupt.</summary>
    None = 0,

    /// <summary>The length field is below the smallest or above the largest possible record.</summary>
    LengthOutOfRange,

    /// <summary>The CRC-32C does not match the bytes.</summary>
    ChecksumMismatch,

    /// <summary>The format version byte is not one this code reads.</summary>
    UnsupportedFormat,

    /// <summary>The record type byte is not a known type.</summary>
    UnknownType,

    /// <summary>The HLC timestamp is negative.</summary>
    InvalidHlc,

    /// <summary>The origin region id is not valid.</summary>
    InvalidOrigin,

    /// <summary>The dot counter is 0 or already covered by the record's own context.</summary>
    InvalidDot,

    /// <summary>The causal context is not a canonical version vector encoding.</summary>
    InvalidContext,

    /// <summary>The key is empty, too long, not UTF-8 or has a control character.</summary>
    InvalidKey,

    /// <summary>The content type is not printable ASCII.</summary>
    InvalidContentType,

    /// <summary>The value length is over the hard cap.</summary>
    InvalidValue,

    /// <summary>A delete carries a value or a content type.</summary>
    InvalidTombstone,

    /// <summary>The fields do not exactly fill the record's length.</summary>
    LengthMismatch,

    /// <summary>
    /// A format 2 tagged field is malformed: tags out of order or repeated, tag 0, a length past the block,
    /// a known field with an invalid value, an incomplete idempotency group, or an unknown must-understand tag.
    /// </summary>
    InvalidTaggedField,
}
