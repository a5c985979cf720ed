using System.Buffers.Binary;
using System.Numerics;

namespace AzKv.Wal;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF) over spans, on top of
/// <see cref="BitOperations.Crc32C(uint, ulong)"/> (hardware accelerated where available). Check value: "123456789" →
/// 0xE3069283.
/// </summary>
internal static class Crc32C
{
    /// <summary>The CRC of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(uint.MaxValue, data);

    /// <summary>Continues a running (non-finalized) CRC state; start with <see cref="uint.MaxValue"/>, finish with <c>~state</c>.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return state;
    }
}
