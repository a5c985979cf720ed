using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

public sealed class CorruptDataExceptionTests
{
    [Fact]
    public void Message_WhenCreated_NamesSourceOffsetAndReason()
    {
        var exception = new CorruptDataException("partitions/0003/wal/0000000001-00000000000000000001.log", 4096, "CRC mismatch.");

        Assert.Equal("Corrupt data in 'partitions/0003/wal/0000000001-00000000000000000001.log' at offset 4096: CRC mismatch.", exception.Message);
        Assert.Equal(4096, exception.Offset);
        Assert.Equal("CRC mismatch.", exception.Reason);
        Assert.EndsWith(".log", exception.SourceName, StringComparison.Ordinal);
    }
}
