using System.Buffers.Binary;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

/// <summary>Format 2 of the WAL record: the tagged optional fields after the value (docs/record-format.md).</summary>
public sealed class WalTaggedFieldTests
{
    private static readonly byte[] Fingerprint = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Encode_WhenIdempotencyFieldsPresent_WritesFormat2WithTheDocumentedBlock()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, v1.Key, v1.Write, new WalIdempotency("retry-1", Fingerprint, created: true));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];

        var written = WalEncoder.Encode(record, buffer);

        // The documented example (90 bytes) + u16 block length + key field (3 + 7) + fingerprint (3 + 32) + outcome (3 + 1).
        Assert.Equal(90 + 2 + 10 + 35 + 4, written);
        Assert.Equal(2, buffer[8]);
        var expectedBlock =
            "3100"                                      // block length 49
            + "01" + "0700" + "72657472792D31"          // tag 1, 7 bytes, "retry-1"
            + "02" + "2000" + Convert.ToHexString(Fingerprint)
            + "03" + "0100" + "01";                     // tag 3, 1 byte, created
        Assert.Equal(expectedBlock, Convert.ToHexString(buffer.AsSpan(90)));
        var v1Bytes = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        Assert.True(buffer.AsSpan(9, 90 - 9).SequenceEqual(v1Bytes.AsSpan(9)), "format 2 keeps format 1's fields byte for byte");
        Assert.Equal(Crc32C.Compute(buffer.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4)));
    }

    [Fact]
    public void TryReadNext_WhenFormat2Record_ReturnsItsIdempotencyFields()
    {
        var v1 = WalTestData.DocumentedExample();
        var record = new WalRecord(v1.Lsn, v1.Key, v1.Write, new WalIdempotency("k~!", Fingerprint, created: false));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];
        WalEncoder.Encode(record, buffer);

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out var consumed));

        Assert.Equal(buffer.Length, consumed);
        Assert.Equal(2, view.Format);
        var decoded = view.ToRecord();
        Assert.Equal("k~!", decoded.Idempotency!.Key);
        Assert.False(decoded.Idempotency.Created);
        Assert.Equal(Fingerprint, decoded.Idempotency.Fingerprint.ToArray());
        WalTestData.AssertSameRecord(record, decoded);
    }

    [Fact]
    public void TryReadNext_WhenFormat1Record_StillReadsWithoutIdempotencyFields()
    {
        var bytes = Convert.FromHexString(WalTestData.DocumentedExampleHex);

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(bytes, out var view, out _));

        Assert.Equal(1, view.Format);
        Assert.Null(view.ToRecord().Idempotency);
        Assert.Equal(WalRecordType.Put, view.Type);
    }

    [Fact]
    public void TryReadNext_WhenAnOptionalTagIsUnknown_SkipsIt()
    {
        // A later writer adds an optional field this reader does not know (tag 100): the record still reads.
        var bytes = Format2(Field(1, "abc"u8), Field(2, Fingerprint), Field(3, [1]), Field(100, "node-a/alice"u8));

        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(bytes, out var view, out _));

        Assert.Equal("abc", view.ToRecord().Idempotency!.Key);
        Assert.True(view.Created);
    }

    [Theory]
    [InlineData("must-understand tag unknown")]
    [InlineData("tags out of order")]
    [InlineData("tag repeated")]
    [InlineData("tag zero")]
    [InlineData("idempotency group incomplete")]
    [InlineData("fingerprint of 31 bytes")]
    [InlineData("key with a space")]
    [InlineData("outcome with reserved bit")]
    [InlineData("field past the block")]
    public void TryReadNext_WhenATaggedFieldIsInvalid_ReturnsCorrupt(string defect)
    {
        var bytes = defect switch
        {
            "must-understand tag unknown" => Format2(Field(1, "abc"u8), Field(2, Fingerprint), Field(3, [0]), Field(200, [7])),
            "tags out of order" => Format2(Field(2, Fingerprint), Field(1, "abc"u8), Field(3, [0])),
            "tag repeated" => Format2(Field(1, "abc"u8), Field(1, "abd"u8), Field(2, Fingerprint), Field(3, [0])),
            "tag zero" => Format2(Field(0, [1])),
            "idempotency group incomplete" => Format2(Field(1, "abc"u8), Field(3, [0])),
            "fingerprint of 31 bytes" => Format2(Field(1, "abc"u8), Field(2, Fingerprint.AsSpan(1)), Field(3, [0])),
            "key with a space" => Format2(Field(1, "a c"u8), Field(2, Fingerprint), Field(3, [0])),
            "outcome with reserved bit" => Format2(Field(1, "abc"u8), Field(2, Fingerprint), Field(3, [3])),
            _ => Format2([5, 10, 0, 1]),
        };

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(bytes, out _, out _, out var corruption));

        Assert.Equal(WalCorruption.InvalidTaggedField, corruption);
    }

    [Fact]
    public void TryReadNext_WhenBlockLengthDisagreesWithRecord_ReturnsLengthMismatch()
    {
        var bytes = Format2(Field(1, "abc"u8), Field(2, Fingerprint), Field(3, [0]));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(90), 10);
        Reseal(bytes);

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(bytes, out _, out _, out var corruption));

        Assert.Equal(WalCorruption.LengthMismatch, corruption);
    }

    [Fact]
    public void WalIdempotency_WhenKeyOrFingerprintInvalid_Throws()
    {
        Assert.Throws<ArgumentException>(() => new WalIdempotency("", Fingerprint, false));
        Assert.Throws<ArgumentException>(() => new WalIdempotency(new string('a', 129), Fingerprint, false));
        Assert.Throws<ArgumentException>(() => new WalIdempotency("a b", Fingerprint, false));
        Assert.Throws<ArgumentException>(() => new WalIdempotency("ab", new byte[16], false));
    }

    private static byte[] Field(byte tag, ReadOnlySpan<byte> value)
    {
        var field = new byte[3 + value.Length];
        field[0] = tag;
        BinaryPrimitives.WriteUInt16LittleEndian(field.AsSpan(1), (ushort)value.Length);
        value.CopyTo(field.AsSpan(3));
        return field;
    }

    /// <summary>The documented example as format 2 with <paramref name="fields"/> as its block, framed and checksummed.</summary>
    private static byte[] Format2(params byte[][] fields)
    {
        var v1 = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        var block = fields.SelectMany(f => f).ToArray();
        var bytes = new byte[v1.Length + 2 + block.Length];
        v1.CopyTo(bytes, 0);
        bytes[8] = 2;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(v1.Length), (ushort)block.Length);
        block.CopyTo(bytes, v1.Length + 2);
        Reseal(bytes);
        return bytes;
    }

    private static void Reseal(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)(bytes.Length - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), Crc32C.Compute(bytes.AsSpan(8)));
    }
}
