using System.Buffers.Binary;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

/// <summary>WAL tag 4: who made a write (docs/record-format.md, "Format 2: tagged fields").</summary>
public sealed class WalWriterTagTests
{
    private static readonly byte[] Fingerprint = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Encode_WhenOnlyAWriterIsPresent_WritesFormat2WithTheDocumentedTag4Block()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, v1.Key, v1.Write, null, new WriterIdentity("alice", "app1"));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];

        var written = WalEncoder.Encode(record, buffer);

        Assert.Equal(90 + 2 + 3 + 11, written);
        Assert.Equal(2, buffer[8]);
        var expectedBlock =
            "0E00"                              // block length 14
            + "04" + "0B00"                     // tag 4, 11 bytes
            + "05" + "616C696365"               // subject "alice"
            + "04" + "61707031";                // client id "app1"
        Assert.Equal(expectedBlock, Convert.ToHexString(buffer.AsSpan(90)));
        var v1Bytes = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        Assert.True(buffer.AsSpan(9, 90 - 9).SequenceEqual(v1Bytes.AsSpan(9)), "format 2 keeps format 1's fields byte for byte");
        Assert.Equal(Crc32C.Compute(buffer.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4)));
    }

    [Fact]
    public void TryReadNext_WhenTheRecordHasIdempotencyFieldsAndAWriter_ReturnsBoth()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, v1.Key, v1.Write, new WalIdempotency("op-1", Fingerprint, created: true), new WriterIdentity("3f2c-oid", null));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];
        WalEncoder.Encode(record, buffer);

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out var consumed));

        Assert.Equal(buffer.Length, consumed);
        var decoded = view.ToRecord();
        Assert.Equal("op-1", decoded.Idempotency!.Key);
        Assert.True(decoded.Idempotency.Created);
        Assert.Equal("3f2c-oid", decoded.Writer!.Subject);
        Assert.Null(decoded.Writer.ClientId);
        WalTestData.AssertSameRecord(record, decoded);
    }

    [Fact]
    public void TryReadNext_WhenAnOldFormat1Record_DecodesUnchangedWithoutAWriter()
    {
        var bytes = Convert.FromHexString(WalTestData.DocumentedExampleHex);

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(bytes, out var view, out var consumed));

        Assert.Equal(90, consumed);
        Assert.Equal(1, view.Format);
        Assert.Null(view.GetWriter());
        var record = view.ToRecord();
        Assert.Null(record.Writer);
        Assert.Equal(1, record.Format);
        var reencoded = new byte[record.EncodedLength];
        WalEncoder.Encode(record, reencoded);
        Assert.Equal(bytes, reencoded);
    }

    [Fact]
    public void TryReadNext_WhenAnOldIdempotentRecordHasNoTag4_ReadsItsKeyAndNoWriter()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, v1.Key, v1.Write, new WalIdempotency("retry-1", Fingerprint, created: true));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];
        WalEncoder.Encode(record, buffer);

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out _));

        Assert.Equal("retry-1", view.GetIdempotency()!.Key);
        Assert.Null(view.GetWriter());
    }

    [Fact]
    public void TryReadNext_WhenTag4IsFollowedByAnUnknownOptionalTag_ReadsTheWriterAndSkipsTheOther()
    {
        var buffer = WithBlock("04" + "0700" + "03616263" + "02" + "7879" + "05" + "0200" + "FFFF");

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out _));

        Assert.Equal("abc", view.GetWriter()!.Subject);
        Assert.Equal("xy", view.GetWriter()!.ClientId);
    }

    [Theory]
    [InlineData("04" + "0100" + "00")]                     // too short
    [InlineData("04" + "0200" + "0000")]                   // empty subject
    [InlineData("04" + "0500" + "0361626301")]             // client length runs past the field
    [InlineData("04" + "0600" + "036162630000")]           // a trailing byte
    [InlineData("04" + "0500" + "03610A6300")]             // a control character in the subject
    public void TryReadNext_WhenTag4IsMalformed_ReturnsCorrupt(string block)
    {
        var buffer = WithBlock(block);

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(buffer, out _, out _, out var corruption));
        Assert.Equal(WalCorruption.InvalidTaggedField, corruption);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\nb")]
    public void WriterIdentity_WhenTheSubjectIsInvalid_Throws(string subject)
    {
        Assert.Throws<ArgumentException>(() => new WriterIdentity(subject));
        Assert.Null(WriterIdentity.TryCreate(subject, "app"));
    }

    [Fact]
    public void WriterIdentity_WhenTheSubjectIsLongerThan255Bytes_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new WriterIdentity(new string('é', 128)));
        Assert.NotNull(WriterIdentity.TryCreate(new string('x', 255), null));
    }

    /// <summary>The documented example as format 2 with <paramref name="fieldsHex"/> as its tagged fields.</summary>
    private static byte[] WithBlock(string fieldsHex)
    {
        var v1 = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        var fields = Convert.FromHexString(fieldsHex);
        var buffer = new byte[v1.Length + 2 + fields.Length];
        v1.CopyTo(buffer, 0);
        buffer[8] = 2;
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(v1.Length), (ushort)fields.Length);
        fields.CopyTo(buffer, v1.Length + 2);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)(buffer.Length - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), Crc32C.Compute(buffer.AsSpan(8)));
        return buffer;
    }
}
