using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace AzKv.Keys;

/// <summary>
/// The stable key hash used for partitioning: XXH64 with seed 0 over the key's UTF-8 bytes, and
/// <c>partition = (int)(hash % (ulong)partitionCount)</c>. The same on every platform, process and version: it is part
/// of the storage format (docs/record-format.md, "Key hash and partitioning"), because the partition count of a cluster
/// is fixed once created.
/// </summary>
public static class KeyHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;
    private const ulong Prime4 = 0x85EBCA77C2B2AE63UL;
    private const ulong Prime5 = 0x27D4EB2F165667C5UL;
    private const int StackLimit = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>XXH64 (seed 0) of the key's UTF-8 encoding.</summary>
    /// <exception cref="ArgumentException">The key contains a lone surrogate (validate keys first).</exception>
    public static ulong Compute(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var length = StrictUtf8.GetByteCount(key);
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = StrictUtf8.GetBytes(key, buffer);
            return XxHash64(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>XXH64 (seed 0) of a key already encoded as UTF-8.</summary>
    public static ulong Compute(ReadOnlySpan<byte> utf8Key) => XxHash64(utf8Key);

    /// <summary>The partition of <paramref name="key"/> among <paramref name="partitionCount"/> partitions.</summary>
    public static int GetPartition(string key, int partitionCount) => GetPartition(Compute(key), partitionCount);

    /// <summary>The partition of a key hash: <c>(int)(hash % (ulong)partitionCount)</c>.</summary>
    public static int GetPartition(ulong hash, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        return (int)(hash % (ulong)partitionCount);
    }

    /// <summary>
    /// XXH64 as specified by the xxHash project (github.com/Cyan4973/xxHash, doc/xxhash_spec.md), input read
    /// little-endian. Exposed so tools and tests can check vectors.
    /// </summary>
    public static ulong XxHash64(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        var length = data.Length;
        var remaining = data;
        ulong acc;

        if (length >= 32)
        {
            var v1 = seed + Prime1 + Prime2;
            var v2 = seed + Prime2;
            var v3 = seed;
            var v4 = seed - Prime1;
            do
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(remaining));
                v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(remaining[8..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(remaining[16..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(remaining[24..]));
                remaining = remaining[32..];
            }
            while (remaining.Length >= 32);

            acc = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7)
                + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            acc = MergeAccumulator(acc, v1);
            acc = MergeAccumulator(acc, v2);
            acc = MergeAccumulator(acc, v3);
            acc = MergeAccumulator(acc, v4);
        }
        else
        {
            acc = seed + Prime5;
        }

        acc += (ulong)length;

        while (remaining.Length >= 8)
        {
            acc ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(remaining));
            acc = (BitOperations.RotateLeft(acc, 27) * Prime1) + Prime4;
            remaining = remaining[8..];
        }

        if (remaining.Length >= 4)
        {
            acc ^= BinaryPrimitives.ReadUInt32LittleEndian(remaining) * Prime1;
            acc = (BitOperations.RotateLeft(acc, 23) * Prime2) + Prime3;
            remaining = remaining[4..];
        }

        foreach (var b in remaining)
        {
            acc ^= b * Prime5;
            acc = BitOperations.RotateLeft(acc, 11) * Prime1;
        }

        acc ^= acc >> 33;
        acc *= Prime2;
        acc ^= acc >> 29;
        acc *= Prime3;
        acc ^= acc >> 32;
        return acc;
    }

    private static ulong Round(ulong acc, ulong lane)
    {
        acc += lane * Prime2;
        acc = BitOperations.RotateLeft(acc, 31);
        return acc * Prime1;
    }

    private static ulong MergeAccumulator(ulong acc, ulong lane)
    {
        acc ^= Round(0, lane);
        return (acc * Prime1) + Prime4;
    }
}
