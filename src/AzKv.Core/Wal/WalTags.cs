namespace AzKv.Wal;

/// <summary>
/// Tags of the optional fields of a format 2 WAL record (docs/record-format.md, "Tagged fields"). Each field
/// is <c>u8 tag, u16 length, bytes</c>, tags strictly ascending. Tags 1–127 may be skipped by a reader that does
/// not know them (information such as a writer's identity); tags 128–255 must be understood (a reader that does
/// not know one rejects the record). Tag 0 is invalid.
/// </summary>
public static class WalTags
{
    /// <summary>The client's Idempotency-Key, 1–128 bytes of visible ASCII. Requires <see cref="RequestFingerprint"/> and <see cref="WriteOutcome"/>.</summary>
    public const byte IdempotencyKey = 1;

    /// <summary>SHA-256 (32 bytes) of the request the key was first used with (<c>RequestFingerprint</c>).</summary>
    public const byte RequestFingerprint = 2;

    /// <summary>One byte: bit 0 set when the write created the key (HTTP 201); other bits zero.</summary>
    public const byte WriteOutcome = 3;

    /// <summary>
    /// Who made the write (<see cref="WriterIdentity"/>): u8 subject length (1–255), subject UTF-8, u8 client id length
    /// (0–255), client id UTF-8. Optional: a reader that does not know it skips it.
    /// </summary>
    public const byte Writer = 4;

    /// <summary>
    /// The entry's label (1–256 bytes of UTF-8, see <c>Labels</c>); absent for the null label. Must-understand: a
    /// reader that ignored it would merge the labelled value into the key's unlabelled entry.
    /// </summary>
    public const byte Label = 129;

    /// <summary>The first tag of the must-understand range.</summary>
    public const byte FirstMustUnderstand = 128;

    /// <summary>Length of a request fingerprint.</summary>
    public const int FingerprintLength = 32;

    /// <summary>The outcome byte's "created" bit.</summary>
    public const byte CreatedFlag = 0x01;
}
