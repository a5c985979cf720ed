using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

public sealed class WalRecordTests
{
    [Fact]
    public void Properties_WhenPut_ForwardToTheWrite()
    {
        var record = WalTestData.DocumentedExample();

        Assert.Equal(42UL, record.Lsn);
        Assert.Equal(WalRecordType.Put, record.Type);
        Assert.Equal("eu", record.OriginRegion);
        Assert.Equal(3UL, record.DotCounter);
        Assert.Equal(VersionVector.Create(("eu", 2), ("us", 1)), record.Context);
        Assert.Equal("text/plain", record.ContentType);
        Assert.Equal("blue"u8.ToArray(), record.Value.ToArray());
        Assert.Equal(0x019B76DAA8000001L, record.Hlc);
        Assert.Equal(90, record.EncodedLength);
    }

    [Fact]
    public void Type_WhenWriteIsTombstone_IsDelete()
    {
        var write = SiblingSet.Empty.Delete("a", VersionVector.Empty, 1).Write;

        Assert.Equal(WalRecordType.Delete, new WalRecord(1, "k", write).Type);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad\nkey")]
    public void Constructor_WhenKeyInvalid_Throws(string key)
    {
        var write = SiblingSet.Empty.Delete("a", VersionVector.Empty, 1).Write;

        Assert.Throws<ArgumentException>(() => new WalRecord(1, key, write));
    }
}
