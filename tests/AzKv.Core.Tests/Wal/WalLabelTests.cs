using System.Buffers.Binary;
using AzKv.Keys;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

/// <summary>Labelled entries in the WAL: the key field holds the key, must-understand tag 129 the label (docs/record-format.md).</summary>
public sealed class WalLabelTests
{
    [Fact]
    public void Encode_WhenLabelled_WritesKeyFieldAndTag129()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, Labels.EntryKey(v1.Key, "dev"), v1.Write);
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];

        var written = WalEncoder.Encode(record, buffer);

        Assert.Equal(90 + 2 + 3 + 3, written);
        Assert.Equal(2, buffer[8]);
        Assert.Equal("0600" + "81" + "0300" + "646576", Convert.ToHexString(buffer.AsSpan(90)));
        var v1Bytes = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        Assert.True(buffer.AsSpan(9, 90 - 9).SequenceEqual(v1Bytes.AsSpan(9)), "the key field holds the key alone");
        Assert.Equal(Crc32C.Compute(buffer.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4)));
    }

    [Fact]
    public void TryReadNext_WhenLabelledWithIdempotency_RoundTripsEntryKeyAndFields()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, Labels.EntryKey(v1.Key, "prod"), v1.Write, new WalIdempotency("id-1", new byte[32], created: true));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];
        WalEncoder.Encode(record, buffer);

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out var consumed));

        Assert.Equal(buffer.Length, consumed);
        Assert.Equal("app/color", view.GetKey());
        Assert.Equal("prod", view.GetLabel());
        var decoded = view.ToRecord();
        Assert.Equal("app/color\0prod", decoded.Key);
        Assert.Equal("id-1", decoded.Idempotency!.Key);
    }

    [Fact]
    public void TryReadNext_WhenLabelledWithIdempotencyAndWriter_RoundTripsAllTagsInOrder()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, Labels.EntryKey(v1.Key, "prod"), v1.Write, new WalIdempotency("id-1", new byte[32], created: true), new WriterIdentity("alice", "app1"));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];

        Assert.Equal(buffer.Length, WalEncoder.Encode(record, buffer));
        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out var consumed));

        Assert.Equal(buffer.Length, consumed);
        Assert.Equal("app/color", view.GetKey());
        Assert.Equal("prod", view.GetLabel());
        var decoded = view.ToRecord();
        Assert.Equal("app/color\0prod", decoded.Key);
        Assert.Equal("id-1", decoded.Idempotency!.Key);
        Assert.Equal("alice", decoded.Writer!.Subject);
        Assert.Equal("app1", decoded.Writer.ClientId);
        Assert.Equal(buffer.Length, WalEncoder.GetEncodedLength(decoded));
    }

    [Fact]
    public void TryReadNext_WhenLabelTagInvalid_ReturnsCorrupt()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, Labels.EntryKey(v1.Key, "dev"), v1.Write);
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];
        WalEncoder.Encode(record, buffer);
        buffer[^1] = (byte)'*'; // "de*": '*' is not allowed in a label
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), Crc32C.Compute(buffer.AsSpan(8)));

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(buffer, out _, out _, out var corruption));
        Assert.Equal(WalCorruption.InvalidTaggedField, corruption);
    }

    [Fact]
    public void Constructor_WhenEntryKeyHasEmptyLabel_Throws()
    {
        var v1 = WalTestData.DocumentedExample();

        Assert.Throws<ArgumentException>(() => new WalRecord(v1.Lsn, v1.Key + "\0", v1.Write));
    }
}
