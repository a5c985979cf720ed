using AzKv.Checkpoints;
using AzKv.Wal;

namespace AzKv.Core.Tests.Checkpoints;

/// <summary>Format 3 of the checkpoint: the last-writer section after the (possibly empty) idempotency section.</summary>
public sealed class CheckpointLastWriterTests
{
    [Fact]
    public void Open_WhenFormat3WithoutIdempotencyEntries_ReadsTheLastWritersBack()
    {
        var bytes = CheckpointTestData.WriteFormat3(0, writer => writer.AddWriter("app/color", new WriterIdentity("alice", "app1"), 1000));

        var reader = CheckpointReader.Open(bytes, "ckpt");
        reader.ReadAll();

        Assert.Equal(3, reader.Header.Format);
        Assert.Empty(reader.IdempotencyEntries);
        var (key, last) = Assert.Single(reader.Writers);
        Assert.Equal("app/color", key);
        Assert.Equal(new WriterIdentity("alice", "app1"), last.Writer);
        Assert.Equal(1000, last.Hlc);
    }

    [Fact]
    public void Open_WhenFormat3WithIdempotencyEntries_ReadsBothSections()
    {
        var bytes = CheckpointTestData.WriteFormat3(1, writer =>
        {
            writer.AddIdempotency("app/color", "op-1", CheckpointTestData.Fingerprint, isDelete: false, created: true, 40, 1000, CheckpointTestData.DocumentedExampleState().Context);
            writer.AddWriter("app/color", new WriterIdentity("bob"), 1000);
        });

        var reader = CheckpointReader.Open(bytes, "ckpt");
        reader.ReadAll();

        Assert.Equal("op-1", Assert.Single(reader.IdempotencyEntries).IdempotencyKey);
        Assert.Equal("bob", Assert.Single(reader.Writers).Value.Writer.Subject);
    }

    [Fact]
    public void Open_WhenFormat1_HasNoLastWriters()
    {
        var reader = CheckpointReader.Open(Convert.FromHexString(CheckpointTestData.DocumentedExampleHex), "ckpt");
        reader.ReadAll();

        Assert.Equal(1, reader.Header.Format);
        Assert.Empty(reader.Writers);
    }

    [Fact]
    public void Open_WhenALastWriterEntryIsDamaged_ThrowsCorruptData()
    {
        var bytes = CheckpointTestData.WriteFormat3(0, writer => writer.AddWriter("app/color", new WriterIdentity("alice"), 1000)).ToArray();

        // The subject's first byte becomes a control character; the CRC is fixed so only the entry check can catch it.
        var at = bytes.Length - 4 - 1 - 5;
        Assert.Equal((byte)'a', bytes[at]);
        bytes[at] = 0x01;
        CheckpointTestData.FixCrc(bytes);

        var reader = CheckpointReader.Open(bytes, "ckpt");
        Assert.Throws<CorruptDataException>(() => reader.ReadAll());
    }
}
