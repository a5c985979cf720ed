using System.Text;
using AzKv.Keys;

namespace AzKv.Core.Tests.Keys;

public sealed class KeyHashTests
{
    // Published XXH64 vectors (seed 0): the xxHash reference implementation's sanity checks and the widely
    // reproduced cespare/xxhash table. The 63-byte string exercises the 32-byte stripes and every tail path.
    [Theory]
    [InlineData("", 0xEF46DB3751D8E999UL)]
    [InlineData("a", 0xD24EC4F1A98C6E5BUL)]
    [InlineData("as", 0x1C330FB2D66BE179UL)]
    [InlineData("asd", 0x631C37CE72A97393UL)]
    [InlineData("asdf", 0x415872F599CEA71EUL)]
    [InlineData("abc", 0x44BC2CF5AD770999UL)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x0B242D361FDA71BCUL)]
    [InlineData("Call me Ishmael. Some years ago--never mind how long precisely-", 0x02A2E85470D6FD96UL)]
    public void XxHash64_WhenGivenPublishedVector_ReturnsPublishedHash(string input, ulong expected)
    {
        Assert.Equal(expected, KeyHash.XxHash64(Encoding.ASCII.GetBytes(input)));
    }

    [Fact]
    public void XxHash64_WhenGivenSanityBufferByte0_ReturnsReferenceValue()
    {
        // xxHash's sanity check: one byte 0x00 (first byte of its generated buffer), seed 0.
        Assert.Equal(0xE934A84ADB052768UL, KeyHash.XxHash64([0x00]));
    }

    // Values checked against the xxhsum reference tool (xxhsum -H1); they pin the UTF-8 step and long inputs.
    [Theory]
    [InlineData("config/app/feature-x", 0xA1F9609CD60DC8ABUL)]
    [InlineData("été/😀", 0xFC72596858833791UL)]
    public void Compute_WhenGivenKey_HashesItsUtf8Bytes(string key, ulong expected)
    {
        Assert.Equal(expected, KeyHash.Compute(key));
        Assert.Equal(expected, KeyHash.Compute(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public void Compute_WhenKeyIs1024Bytes_ReturnsReferenceValue()
    {
        Assert.Equal(0xCD523BEE5129BB14UL, KeyHash.Compute(new string('k', 1024)));
    }

    [Fact]
    public void Compute_WhenKeyIsLongerThanStackBuffer_MatchesSpanOverload()
    {
        var key = new string('€', 3000);

        Assert.Equal(KeyHash.Compute(Encoding.UTF8.GetBytes(key)), KeyHash.Compute(key));
    }

    [Fact]
    public void Compute_WhenKeyHasLoneSurrogate_Throws()
    {
        Assert.ThrowsAny<ArgumentException>(() => KeyHash.Compute("a\uD800"));
    }

    [Theory]
    [InlineData(0xEF46DB3751D8E999UL, 16, 9)]
    [InlineData(0xEF46DB3751D8E999UL, 1, 0)]
    [InlineData(ulong.MaxValue, 7, 1)]
    [InlineData(0xD24EC4F1A98C6E5BUL, 1000, 955)]
    public void GetPartition_WhenGivenHash_ReturnsHashModuloCount(ulong hash, int count, int expected)
    {
        Assert.Equal(expected, KeyHash.GetPartition(hash, count));
        Assert.Equal((int)(hash % (ulong)count), KeyHash.GetPartition(hash, count));
    }

    [Fact]
    public void GetPartition_WhenGivenKey_UsesHashOfKey()
    {
        // XXH64("a") = 0xD24EC4F1A98C6E5B; mod 64 = 0x1B = 27.
        Assert.Equal(27, KeyHash.GetPartition("a", 64));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void GetPartition_WhenCountIsNotPositive_Throws(int count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyHash.GetPartition(1UL, count));
    }

    [Fact]
    public void GetPartition_WhenManyKeys_SpreadsEvenly()
    {
        var counts = new int[16];
        for (var i = 0; i < 16_000; i++)
        {
            counts[KeyHash.GetPartition($"key-{i}", 16)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void XxHash64_WhenSeedDiffers_ReturnsDifferentHash()
    {
        var data = "abc"u8.ToArray();

        Assert.NotEqual(KeyHash.XxHash64(data, 0), KeyHash.XxHash64(data, 1));
    }
}
