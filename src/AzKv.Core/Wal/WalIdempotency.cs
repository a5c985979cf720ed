using AzKv.Keys;

namespace AzKv.Wal;

/// <summary>
/// The idempotency fields of a WAL record (format 2, tags 1–3): the client's key, the fingerprint of the request
/// it was first used with, and whether the write created the key. The outcome's ETag is not stored: it is the
/// key's context right after the record is applied, which replay computes.
/// </summary>
public sealed record WalIdempotency
{
    /// <summary>Creates the fields.</summary>
    /// <exception cref="ArgumentException">The key is not a valid idempotency key, or the fingerprint is not 32 bytes.</exception>
    public WalIdempotency(string key, ReadOnlyMemory<byte> fingerprint, bool created)
    {
        if (!IdempotencyKeys.IsValid(key))
        {
            throw new ArgumentException("An idempotency key is 1–128 characters of visible ASCII.", nameof(key));
        }

        if (fingerprint.Length != WalTags.FingerprintLength)
        {
            throw new ArgumentException($"A request fingerprint is {WalTags.FingerprintLength} bytes.", nameof(fingerprint));
        }

        Key = key;
        Fingerprint = fingerprint;
        Created = created;
    }

    /// <summary>The client's Idempotency-Key.</summary>
    public string Key { get; }

    /// <summary>SHA-256 of the request (operation, key, body, content type, precondition).</summary>
    public ReadOnlyMemory<byte> Fingerprint { get; }

    /// <summary>True when the write created the key.</summary>
    public bool Created { get; }

    /// <summary>Encoded size of the three tagged fields.</summary>
    internal int EncodedLength => (3 * WalFormat.TaggedFieldHeaderLength) + Key.Length + WalTags.FingerprintLength + 1;

    /// <inheritdoc/>
    public bool Equals(WalIdempotency? other) =>
        other is not null && Key == other.Key && Created == other.Created && Fingerprint.Span.SequenceEqual(other.Fingerprint.Span);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Key, Created);
}
