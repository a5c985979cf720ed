using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AzKv.Server.Api;

/// <summary>
/// The watch cursor: the LSN reached in every partition of one store. LSNs mean something only in
/// the store that assigned them, so the cursor also carries a tag of the store's identity (region
/// and storage incarnation, from <c>cluster.json</c>); a cursor of another region, or of a store
/// that was wiped and created again, is refused instead of silently skipping changes.
/// </summary>
/// <remarks>
/// Layout (base64url): version byte <c>2</c>, store tag (8 bytes, little endian), partition
/// count (2 bytes), then one LSN per partition (8 bytes each). Version 1 cursors (no tag, issued
/// before stores had an identity) cannot be checked and are treated as foreign.
/// </remarks>
internal static class WatchCursor
{
    private const byte Version = 2;
    private const int HeaderBytes = 1 + 8 + 2;

    /// <summary>What <see cref="TryDecode"/> found.</summary>
    public enum DecodeResult
    {
        /// <summary>A cursor of this store; the positions are set.</summary>
        Valid,

        /// <summary>Not a watch cursor at all.</summary>
        Malformed,

        /// <summary>A well-formed cursor of another store (region, incarnation or partition count) or of an older format.</summary>
        Foreign,
    }

    /// <summary>The tag of a store: the first 8 bytes of SHA-256 over region and incarnation.</summary>
    public static ulong StoreTag(string region, string incarnation)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(region + "\n" + incarnation), hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }

    public static string Encode(ulong storeTag, ReadOnlySpan<long> positions)
    {
        var bytes = new byte[HeaderBytes + (positions.Length * 8)];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), storeTag);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(9), (ushort)positions.Length);
        for (var i = 0; i < positions.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderBytes + (i * 8)), positions[i]);
        }

        return Base64Url.EncodeToString(bytes);
    }

    public static DecodeResult TryDecode(string cursor, ulong storeTag, int partitions, out long[] positions)
    {
        positions = [];
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return DecodeResult.Malformed;
        }

        if (bytes.Length < HeaderBytes || bytes[0] != Version
            || bytes.Length != HeaderBytes + (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(9)) * 8))
        {
            return IsVersion1(bytes) ? DecodeResult.Foreign : DecodeResult.Malformed;
        }

        var count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(9));

        var decoded = new long[count];
        for (var i = 0; i < count; i++)
        {
            decoded[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(HeaderBytes + (i * 8)));
            if (decoded[i] < 0)
            {
                return DecodeResult.Malformed;
            }
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(1)) != storeTag || count != partitions)
        {
            return DecodeResult.Foreign;
        }

        positions = decoded;
        return DecodeResult.Valid;
    }

    /// <summary>The first format: partition count (2 bytes) then the LSNs, nothing else.</summary>
    private static bool IsVersion1(byte[] bytes) =>
        bytes.Length >= 2 && bytes.Length == 2 + (BinaryPrimitives.ReadUInt16LittleEndian(bytes) * 8);
}
