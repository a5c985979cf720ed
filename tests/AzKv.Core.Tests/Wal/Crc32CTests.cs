using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

public sealed class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000U)]
    [InlineData("123456789", 0xE3069283U)]
    [InlineData("a", 0xC1D04330U)]
    public void Compute_WhenGivenCheckInput_ReturnsStandardValue(string input, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(System.Text.Encoding.ASCII.GetBytes(input)));
    }

    [Fact]
    public void Compute_WhenGiven32ZeroBytes_ReturnsRfc3720Value()
    {
        // RFC 3720 (iSCSI) appendix B.4: 32 bytes of zeros.
        Assert.Equal(0x8A9136AAU, Crc32C.Compute(new byte[32]));
    }

    [Fact]
    public void Update_WhenSplitAnywhere_EqualsOneShotAndBitwiseReference()
    {
        Property.ForAll(random =>
        {
            var data = random.NextBytes(100);
            var split = random.Next(0, data.Length + 1);

            var incremental = ~Crc32C.Update(Crc32C.Update(uint.MaxValue, data.AsSpan(0, split)), data.AsSpan(split));

            Assert.Equal(Reference(data), Crc32C.Compute(data));
            Assert.Equal(Crc32C.Compute(data), incremental);
        });
    }

    private static uint Reference(byte[] data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78U : crc >> 1;
            }
        }

        return ~crc;
    }
}
