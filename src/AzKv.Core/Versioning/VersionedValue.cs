using System.Globalization;

namespace AzKv.Versioning;

/// <summary>
/// One version of a key's value: the write's <see cref="Dot"/>, its HLC timestamp, and either a value with its content
/// type or a tombstone (a delete). Immutable; the value memory must be owned by this instance (never a pooled buffer).
/// </summary>
public sealed class VersionedValue : IEquatable<VersionedValue>
{
    /// <summary>Hard cap on a value's length (the configured limit upstream is lower, 1 MiB by default).</summary>
    public const int MaxValueBytes = 16 * 1024 * 1024;

    /// <summary>Maximum content type length in characters (printable ASCII).</summary>
    public const int MaxContentTypeLength = 255;

    /// <summary>Creates a version, validating every field.</summary>
    /// <exception cref="ArgumentException">
    /// The dot is default, the HLC negative, the content type not printable ASCII or too long, the value too long,
    /// or a tombstone carries a value or a content type.
    /// </exception>
    public VersionedValue(Dot dot, long hlc, bool isTombstone, string contentType, ReadOnlyMemory<byte> value)
    {
        if (dot.Region is null)
        {
            throw new ArgumentException("The dot must be set.", nameof(dot));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(hlc);
        ArgumentNullException.ThrowIfNull(contentType);
        if (!IsValidContentType(contentType))
        {
            throw new ArgumentException(
                $"A content type is at most {MaxContentTypeLength} characters of printable ASCII.", nameof(contentType));
        }

        if (value.Length > MaxValueBytes)
        {
            throw new ArgumentException($"A value is at most {MaxValueBytes} bytes.", nameof(value));
        }

        if (isTombstone && (contentType.Length != 0 || !value.IsEmpty))
        {
            throw new ArgumentException("A tombstone has no value and no content type.", nameof(isTombstone));
        }

        Dot = dot;
        Hlc = hlc;
        IsTombstone = isTombstone;
        ContentType = contentType;
        Value = value;
    }

    /// <summary>The write's identity.</summary>
    public Dot Dot { get; }

    /// <summary>Hybrid logical clock timestamp of the write (see <see cref="HybridLogicalClock"/>), used by LWW.</summary>
    public long Hlc { get; }

    /// <summary>True for a delete.</summary>
    public bool IsTombstone { get; }

    /// <summary>The value's content type ("" for a tombstone or when the writer gave none).</summary>
    public string ContentType { get; }

    /// <summary>The value bytes (empty for a tombstone).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>A version holding a value.</summary>
    public static VersionedValue CreatePut(Dot dot, long hlc, string contentType, ReadOnlyMemory<byte> value) =>
        new(dot, hlc, isTombstone: false, contentType, value);

    /// <summary>A tombstone.</summary>
    public static VersionedValue CreateTombstone(Dot dot, long hlc) =>
        new(dot, hlc, isTombstone: true, string.Empty, ReadOnlyMemory<byte>.Empty);

    /// <summary>True when <paramref name="contentType"/> is at most 255 characters of printable ASCII (0x20–0x7E).</summary>
    public static bool IsValidContentType(string? contentType)
    {
        if (contentType is null || contentType.Length > MaxContentTypeLength)
        {
            return false;
        }

        foreach (var c in contentType)
        {
            if (c < 0x20 || c > 0x7E)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The last-writer-wins order: by <see cref="Hlc"/>, then region id (ordinal), then dot counter. A total order
    /// on distinct dots, the same in every region, so every region picks the same winner.
    /// </summary>
    public static int CompareLww(VersionedValue left, VersionedValue right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        var byHlc = left.Hlc.CompareTo(right.Hlc);
        return byHlc != 0 ? byHlc : Dot.CompareCanonical(left.Dot, right.Dot);
    }

    /// <summary>Returns an equal version whose value is a private copy (for values read from a shared buffer).</summary>
    public VersionedValue WithOwnedValue() =>
        Value.IsEmpty ? this : new VersionedValue(Dot, Hlc, IsTombstone, ContentType, Value.ToArray());

    /// <summary>Value equality over every field, including the value bytes.</summary>
    public bool Equals(VersionedValue? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Dot == other.Dot
                && Hlc == other.Hlc
                && IsTombstone == other.IsTombstone
                && string.Equals(ContentType, other.ContentType, StringComparison.Ordinal)
                && Value.Span.SequenceEqual(other.Value.Span)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as VersionedValue);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Dot, Hlc, IsTombstone, Value.Length);

    /// <summary>Value equality.</summary>
    public static bool operator ==(VersionedValue? left, VersionedValue? right) =>
        left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(VersionedValue? left, VersionedValue? right) => !(left == right);

    /// <inheritdoc/>
    public override string ToString() => IsTombstone
        ? string.Create(CultureInfo.InvariantCulture, $"{Dot} @{Hlc} tombstone")
        : string.Create(CultureInfo.InvariantCulture, $"{Dot} @{Hlc} {ContentType} {Value.Length} bytes");
}
