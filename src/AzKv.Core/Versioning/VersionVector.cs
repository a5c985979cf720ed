using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace AzKv.Versioning;

/// <summary>
/// An immutable version vector: region id → counter, where an absent region means 0. Regions are few (one per
/// region of the deployment), so it is two small sorted arrays.
/// </summary>
/// <remarks>
/// <para>Canonical form: entries sorted by region (ordinal), no zero counters. Two vectors are equal exactly when their
/// encodings are equal, so the ETag of a vector identifies it.</para>
/// <para>Binary encoding (docs/record-format.md): <c>u8 count</c>, then per entry <c>u8 length, region ASCII,
/// u64 counter</c> (little-endian), regions strictly ascending, counters ≥ 1, at most <see cref="MaxEntries"/> entries.</para>
/// </remarks>
public sealed class VersionVector : IEquatable<VersionVector>
{
    /// <summary>Most entries a vector may hold (the encoding's limit; deployments have far fewer regions).</summary>
    public const int MaxEntries = 64;

    /// <summary>Largest encoding: count byte plus <see cref="MaxEntries"/> entries of the longest region id.</summary>
    public const int MaxEncodedLength = 1 + (MaxEntries * (1 + RegionId.MaxLength + 8));

    private static readonly int MaxETagLength = 2 + Base64Url.GetEncodedLength(MaxEncodedLength);

    private readonly string[] _regions;
    private readonly ulong[] _counters;
    private string? _etag;
    private KeyValuePair<string, ulong>[]? _entries;

    private VersionVector(string[] regions, ulong[] counters)
    {
        _regions = regions;
        _counters = counters;
    }

    /// <summary>The vector with every counter 0.</summary>
    public static VersionVector Empty { get; } = new([], []);

    /// <summary>Number of regions with a non-zero counter.</summary>
    public int Count => _regions.Length;

    /// <summary>True when every counter is 0.</summary>
    public bool IsEmpty => _regions.Length == 0;

    /// <summary>The non-zero entries in canonical (ordinal region) order.</summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> Entries => _entries ??= BuildEntries();

    /// <summary>The counter of <paramref name="region"/>, 0 when absent.</summary>
    public ulong this[string region] => Get(region);

    /// <summary>Creates a vector from entries; zero counters are dropped.</summary>
    /// <exception cref="ArgumentException">A region id is invalid or repeated, or there are too many entries.</exception>
    public static VersionVector Create(IEnumerable<KeyValuePair<string, ulong>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = new List<KeyValuePair<string, ulong>>();
        foreach (var entry in entries)
        {
            RegionId.ThrowIfInvalid(entry.Key, nameof(entries));
            if (entry.Value != 0)
            {
                list.Add(entry);
            }
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        for (var i = 1; i < list.Count; i++)
        {
            if (string.Equals(list[i - 1].Key, list[i].Key, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Region '{list[i].Key}' appears more than once.", nameof(entries));
            }
        }

        ThrowIfTooMany(list.Count);
        if (list.Count == 0)
        {
            return Empty;
        }

        var regions = new string[list.Count];
        var counters = new ulong[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            regions[i] = list[i].Key;
            counters[i] = list[i].Value;
        }

        return new VersionVector(regions, counters);
    }

    /// <summary>Creates a vector from (region, counter) pairs; see <see cref="Create(IEnumerable{KeyValuePair{string, ulong}})"/>.</summary>
    public static VersionVector Create(params (string Region, ulong Counter)[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var pairs = new KeyValuePair<string, ulong>[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            pairs[i] = new KeyValuePair<string, ulong>(entries[i].Region, entries[i].Counter);
        }

        return Create(pairs);
    }

    /// <summary>The counter of <paramref name="region"/>, 0 when absent.</summary>
    public ulong Get(string region)
    {
        var index = IndexOf(region);
        return index >= 0 ? _counters[index] : 0;
    }

    /// <summary>True when the dot's write is included: <c>dot.Counter ≤ this[dot.Region]</c>.</summary>
    public bool Covers(Dot dot) => dot.Counter <= Get(dot.Region);

    /// <summary>True when every counter is ≥ the other's (Compare gives <see cref="VersionVectorOrder.After"/> or Equal).</summary>
    public bool Dominates(VersionVector other) => Compare(this, other) is VersionVectorOrder.After or VersionVectorOrder.Equal;

    /// <summary>A vector equal to this one with <paramref name="region"/> set to <paramref name="counter"/> (0 removes it).</summary>
    public VersionVector With(string region, ulong counter)
    {
        RegionId.ThrowIfInvalid(region, nameof(region));
        var index = IndexOf(region);
        if (index >= 0)
        {
            if (_counters[index] == counter)
            {
                return this;
            }

            if (counter == 0)
            {
                if (_regions.Length == 1)
                {
                    return Empty;
                }

                return new VersionVector(RemoveAt(_regions, index), RemoveAt(_counters, index));
            }

            var counters = (ulong[])_counters.Clone();
            counters[index] = counter;
            return new VersionVector(_regions, counters);
        }

        if (counter == 0)
        {
            return this;
        }

        ThrowIfTooMany(_regions.Length + 1);
        var insertAt = ~index;
        return new VersionVector(InsertAt(_regions, insertAt, region), InsertAt(_counters, insertAt, counter));
    }

    /// <summary>Pointwise maximum of this vector and <paramref name="other"/>.</summary>
    public VersionVector Merge(VersionVector other) => Merge(this, other);

    /// <summary>Pointwise maximum (the least upper bound). Commutative, associative, idempotent.</summary>
    public static VersionVector Merge(VersionVector left, VersionVector right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        var order = Compare(left, right);
        if (order is VersionVectorOrder.Equal or VersionVectorOrder.After)
        {
            return left;
        }

        if (order == VersionVectorOrder.Before)
        {
            return right;
        }

        var regions = new List<string>(left.Count + right.Count);
        var counters = new List<ulong>(left.Count + right.Count);
        int i = 0, j = 0;
        while (i < left._regions.Length || j < right._regions.Length)
        {
            var cmp = i == left._regions.Length ? 1
                : j == right._regions.Length ? -1
                : string.CompareOrdinal(left._regions[i], right._regions[j]);
            if (cmp < 0)
            {
                regions.Add(left._regions[i]);
                counters.Add(left._counters[i++]);
            }
            else if (cmp > 0)
            {
                regions.Add(right._regions[j]);
                counters.Add(right._counters[j++]);
            }
            else
            {
                regions.Add(left._regions[i]);
                counters.Add(Math.Max(left._counters[i++], right._counters[j++]));
            }
        }

        ThrowIfTooMany(regions.Count);
        return new VersionVector([.. regions], [.. counters]);
    }

    /// <summary>Where <paramref name="left"/> stands relative to <paramref name="right"/> in the causal order.</summary>
    public static VersionVectorOrder Compare(VersionVector left, VersionVector right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        var leftGreater = false;
        var rightGreater = false;
        int i = 0, j = 0;
        while (i < left._regions.Length || j < right._regions.Length)
        {
            var cmp = i == left._regions.Length ? 1
                : j == right._regions.Length ? -1
                : string.CompareOrdinal(left._regions[i], right._regions[j]);
            if (cmp < 0)
            {
                leftGreater = true;
                i++;
            }
            else if (cmp > 0)
            {
                rightGreater = true;
                j++;
            }
            else
            {
                var l = left._counters[i++];
                var r = right._counters[j++];
                leftGreater |= l > r;
                rightGreater |= r > l;
            }

            if (leftGreater && rightGreater)
            {
                return VersionVectorOrder.Concurrent;
            }
        }

        return leftGreater ? VersionVectorOrder.After
            : rightGreater ? VersionVectorOrder.Before
            : VersionVectorOrder.Equal;
    }

    /// <summary>Length of <see cref="ToBytes"/>.</summary>
    public int GetEncodedLength()
    {
        var length = 1;
        foreach (var region in _regions)
        {
            length += 1 + region.Length + 8;
        }

        return length;
    }

    /// <summary>The canonical binary encoding (see the type remarks).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[GetEncodedLength()];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>
    /// Decodes exactly <paramref name="encoded"/> (no trailing bytes). Returns false, never throws, for anything but a
    /// canonical encoding (unsorted or repeated regions, zero counters, bad region ids, too many entries).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, out VersionVector vector)
    {
        if (TryRead(encoded, out var decoded, out var consumed) && consumed == encoded.Length)
        {
            vector = decoded;
            return true;
        }

        vector = Empty;
        return false;
    }

    /// <summary>
    /// The vector as a strong HTTP entity tag: <c>"</c> + unpadded base64url of <see cref="ToBytes"/> + <c>"</c>
    /// (the empty vector is <c>"AA"</c>). Equal vectors give equal ETags and vice versa.
    /// </summary>
    public string ToETag()
    {
        return _etag ??= Build(this);

        // One string per vector: the canonical bytes on the stack, base64url straight into the string.
        static string Build(VersionVector vector) =>
            string.Create(Base64Url.GetEncodedLength(vector.GetEncodedLength()) + 2, vector, static (chars, v) =>
            {
                var length = v.GetEncodedLength();
                var encoded = length <= 256 ? stackalloc byte[256] : new byte[length];
                var written = v.WriteTo(encoded);
                chars[0] = '"';
                chars[^1] = '"';
                Base64Url.EncodeToChars(encoded[..written], chars[1..^1]);
            });
    }

    /// <summary>
    /// Parses an ETag made by <see cref="ToETag"/>. Only the exact canonical text is accepted (strong form, no
    /// padding, no whitespace); weak ETags (<c>W/"…"</c>) are rejected. Never throws.
    /// </summary>
    public static bool TryParseETag(string? etag, out VersionVector vector)
    {
        vector = Empty;
        if (etag is null || etag.Length < 3 || etag.Length > MaxETagLength || etag[0] != '"' || etag[^1] != '"')
        {
            return false;
        }

        var text = etag.AsSpan(1, etag.Length - 2);
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var status = Base64Url.DecodeFromChars(text, buffer, out var charsConsumed, out var written);
        if (status != System.Buffers.OperationStatus.Done || charsConsumed != text.Length)
        {
            return false;
        }

        if (!TryDecode(buffer[..written], out var decoded))
        {
            return false;
        }

        // Canonical text only: the decoder tolerates padding and whitespace, the ETag must not.
        if (!decoded.ToETag().AsSpan().SequenceEqual(etag))
        {
            return false;
        }

        vector = decoded;
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(VersionVector? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._regions.Length != _regions.Length)
        {
            return false;
        }

        for (var i = 0; i < _regions.Length; i++)
        {
            if (!string.Equals(_regions[i], other._regions[i], StringComparison.Ordinal) || _counters[i] != other._counters[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as VersionVector);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        for (var i = 0; i < _regions.Length; i++)
        {
            hash.Add(_regions[i], StringComparer.Ordinal);
            hash.Add(_counters[i]);
        }

        return hash.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(VersionVector? left, VersionVector? right) =>
        left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(VersionVector? left, VersionVector? right) => !(left == right);

    /// <summary><c>[region:counter, …]</c> in canonical order.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder("[");
        for (var i = 0; i < _regions.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }

            builder.Append(_regions[i]).Append(':').Append(_counters[i]);
        }

        return builder.Append(']').ToString();
    }

    /// <summary>Writes the canonical encoding; returns the bytes written. The destination must be long enough.</summary>
    internal int WriteTo(Span<byte> destination)
    {
        destination[0] = (byte)_regions.Length;
        var offset = 1;
        for (var i = 0; i < _regions.Length; i++)
        {
            var region = _regions[i];
            destination[offset++] = (byte)region.Length;
            for (var c = 0; c < region.Length; c++)
            {
                destination[offset++] = (byte)region[c];
            }

            BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], _counters[i]);
            offset += 8;
        }

        return offset;
    }

    /// <summary>Reads one canonical encoding from the start of <paramref name="source"/>. Never throws.</summary>
    internal static bool TryRead(ReadOnlySpan<byte> source, out VersionVector vector, out int consumed)
    {
        vector = Empty;
        consumed = 0;
        if (source.IsEmpty)
        {
            return false;
        }

        int count = source[0];
        if (count > MaxEntries)
        {
            return false;
        }

        if (count == 0)
        {
            consumed = 1;
            return true;
        }

        var regions = new string[count];
        var counters = new ulong[count];
        var offset = 1;
        ReadOnlySpan<byte> previous = default;
        for (var i = 0; i < count; i++)
        {
            if (!TryReadEntry(source, ref offset, previous, out var regionBytes, out var counter))
            {
                return false;
            }

            regions[i] = RegionIdCache.Get(regionBytes);
            counters[i] = counter;
            previous = regionBytes;
        }

        vector = new VersionVector(regions, counters);
        consumed = offset;
        return true;
    }

    /// <summary>
    /// Reads the entry at <paramref name="offset"/> of a canonical encoding: a valid region id ordered strictly after
    /// <paramref name="previous"/> (empty for the first entry) and a non-zero counter. False when it is not one.
    /// </summary>
    private static bool TryReadEntry(ReadOnlySpan<byte> source, scoped ref int offset, scoped ReadOnlySpan<byte> previous, out ReadOnlySpan<byte> region, out ulong counter)
    {
        region = default;
        counter = 0;
        if (offset >= source.Length)
        {
            return false;
        }

        int length = source[offset++];
        if (source.Length - offset < length + 8)
        {
            return false;
        }

        region = source.Slice(offset, length);
        if (!RegionId.IsValid(region) || (!previous.IsEmpty && previous.SequenceCompareTo(region) >= 0))
        {
            return false;
        }

        offset += length;
        counter = BinaryPrimitives.ReadUInt64LittleEndian(source[offset..]);
        offset += 8;
        return counter != 0;
    }

    /// <summary>
    /// Checks one canonical encoding at the start of <paramref name="source"/> without allocating, and reports the
    /// counter of <paramref name="region"/> in it (0 when absent). Never throws.
    /// </summary>
    internal static bool TryValidate(ReadOnlySpan<byte> source, ReadOnlySpan<byte> region, out int consumed, out ulong regionCounter)
    {
        consumed = 0;
        regionCounter = 0;
        if (source.IsEmpty || source[0] > MaxEntries)
        {
            return false;
        }

        int count = source[0];
        var offset = 1;
        ReadOnlySpan<byte> previous = default;
        for (var i = 0; i < count; i++)
        {
            if (!TryReadEntry(source, ref offset, previous, out var regionBytes, out var counter))
            {
                return false;
            }

            if (regionBytes.SequenceEqual(region))
            {
                regionCounter = counter;
            }

            previous = regionBytes;
        }

        consumed = offset;
        return true;
    }

    private int IndexOf(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        var low = 0;
        var high = _regions.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var cmp = string.CompareOrdinal(_regions[mid], region);
            if (cmp == 0)
            {
                return mid;
            }

            if (cmp < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return ~low;
    }

    private KeyValuePair<string, ulong>[] BuildEntries()
    {
        var entries = new KeyValuePair<string, ulong>[_regions.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new KeyValuePair<string, ulong>(_regions[i], _counters[i]);
        }

        return entries;
    }

    private static void ThrowIfTooMany(int count)
    {
        if (count > MaxEntries)
        {
            throw new ArgumentException($"A version vector holds at most {MaxEntries} regions; this one would hold {count}.");
        }
    }

    private static T[] RemoveAt<T>(T[] source, int index)
    {
        var result = new T[source.Length - 1];
        source.AsSpan(0, index).CopyTo(result);
        source.AsSpan(index + 1).CopyTo(result.AsSpan(index));
        return result;
    }

    private static T[] InsertAt<T>(T[] source, int index, T value)
    {
        var result = new T[source.Length + 1];
        source.AsSpan(0, index).CopyTo(result);
        result[index] = value;
        source.AsSpan(index).CopyTo(result.AsSpan(index + 1));
        return result;
    }
}
