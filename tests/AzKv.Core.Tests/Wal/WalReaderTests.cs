using System.Buffers.Binary;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

public sealed class WalReaderTests
{
    [Fact]
    public void TryReadNext_WhenDocumentedExample_DecodesEveryField()
    {
        var bytes = Convert.FromHexString(WalTestData.DocumentedExampleHex);

        var status = WalReader.TryReadNext(bytes, out var view, out var consumed);

        Assert.Equal(WalReadStatus.Ok, status);
        Assert.Equal(90, consumed);
        Assert.Equal(90, view.EncodedLength);
        Assert.Equal(WalRecordType.Put, view.Type);
        Assert.Equal(42UL, view.Lsn);
        Assert.Equal(HybridLogicalClock.Pack(1_767_225_600_000, 1), view.Hlc);
        Assert.Equal("eu", view.GetOriginRegion());
        Assert.Equal(3UL, view.DotCounter);
        Assert.Equal(new Dot("eu", 3), view.GetDot());
        Assert.Equal(VersionVector.Create(("eu", 2), ("us", 1)), view.GetContext());
        Assert.Equal("app/color", view.GetKey());
        Assert.Equal("text/plain", view.GetContentType());
        Assert.Equal("blue"u8.ToArray(), view.Value.ToArray());
        Assert.True(view.IsFromRegion("eu"));
        Assert.False(view.IsFromRegion("us"));
        Assert.False(view.IsFromRegion("e"));
        WalTestData.AssertSameRecord(WalTestData.DocumentedExample(), view.ToRecord());
    }

    [Fact]
    public void TryReadNext_WhenRandomRecord_RoundTrips()
    {
        Property.ForAll(random =>
        {
            var record = WalTestData.RandomRecord(random);
            var buffer = Encode(record);

            Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out var consumed, out var corruption));
            Assert.Equal(WalCorruption.None, corruption);
            Assert.Equal(buffer.Length, consumed);
            WalTestData.AssertSameRecord(record, view.ToRecord());
        });
    }

    [Fact]
    public void ToRecord_WhenBufferChangesAfterwards_KeepsOwnedCopies()
    {
        var buffer = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        WalReader.TryReadNext(buffer, out var view, out _);

        var record = view.ToRecord();
        Array.Clear(buffer);

        Assert.Equal("blue"u8.ToArray(), record.Value.ToArray());
        Assert.Equal("app/color", record.Key);
    }

    [Fact]
    public void TryReadNext_WhenEmpty_ReturnsIncomplete()
    {
        Assert.Equal(WalReadStatus.Incomplete, WalReader.TryReadNext([], out _, out var consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void TryReadNext_WhenTruncatedAtAnyPoint_ReturnsIncomplete()
    {
        Property.ForAll(random =>
        {
            var buffer = Encode(WalTestData.RandomRecord(random));
            for (var length = 0; length < buffer.Length; length++)
            {
                Assert.Equal(WalReadStatus.Incomplete, WalReader.TryReadNext(buffer.AsSpan(0, length), out _, out var consumed));
                Assert.Equal(0, consumed);
            }
        }, cases: 100);
    }

    [Fact]
    public void TryReadNext_WhenAnySingleBitFlipped_NeverReturnsOk()
    {
        Property.ForAll(random =>
        {
            var record = Encode(WalTestData.RandomRecord(random, maxValue: 16));
            var follower = Encode(WalTestData.RandomRecord(random));
            var buffer = new byte[record.Length + follower.Length + 4096];
            record.CopyTo(buffer, 0);
            follower.CopyTo(buffer, record.Length);

            for (var bit = 0; bit < record.Length * 8; bit++)
            {
                buffer[bit / 8] ^= (byte)(1 << (bit % 8));

                // Every flip outside the length field, and every length flip whose claimed record fits in the
                // bytes at hand, is caught by the range check or the CRC. A length flip that claims more bytes than
                // there are looks like a record still arriving: Incomplete, never Ok.
                var body = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
                var plausible = bit < 32 && body >= WalFormat.MinBodyLength && body <= WalFormat.MaxBodyLength;
                var followed = WalReader.TryReadNext(buffer, out _, out _);
                var alone = WalReader.TryReadNext(buffer.AsSpan(0, record.Length), out _, out _);
                Assert.Equal(plausible && 8 + body > buffer.Length ? WalReadStatus.Incomplete : WalReadStatus.Corrupt, followed);
                Assert.Equal(plausible && 8 + body > record.Length ? WalReadStatus.Incomplete : WalReadStatus.Corrupt, alone);

                buffer[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out _, out _));
        }, cases: 60);
    }

    [Fact]
    public void TryReadNext_WhenGivenRandomBytes_NeverThrows()
    {
        Property.ForAll(random =>
        {
            var buffer = random.NextBytes(200);
            if (buffer.Length >= 45 && random.Next(2) == 0)
            {
                // Make the length plausible so the CRC is what rejects it.
                BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)random.Next(37, buffer.Length - 7));
            }

            var status = WalReader.TryReadNext(buffer, out _, out var consumed);

            Assert.NotEqual(WalReadStatus.Ok, status);
            Assert.Equal(0, consumed);
        }, cases: 5_000);
    }

    [Fact]
    public void TryReadNext_WhenBodyIsMutatedAndCrcRecomputed_ParsesOrRejectsWithoutThrowing()
    {
        // Structure-aware fuzz: damage that the CRC does not catch (the writer's bug, not the disk's) must still be
        // rejected field by field, never crash, and anything accepted must re-encode to the same bytes.
        var ok = 0;
        Property.ForAll(random =>
        {
            var buffer = Encode(WalTestData.RandomRecord(random, maxValue: 16));
            var mutations = random.Next(1, 4);
            for (var i = 0; i < mutations; i++)
            {
                var at = random.Next(8, buffer.Length);
                buffer[at] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)(buffer[at] ^ (1 << random.Next(8))),
                    _ => random.Next(2) == 0 ? (byte)0 : (byte)0xFF,
                };
            }

            if (random.Next(4) == 0)
            {
                var newLength = random.Next(8 + WalFormat.MinBodyLength, Math.Max(8 + WalFormat.MinBodyLength, buffer.Length) + 1);
                Array.Resize(ref buffer, newLength);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)(newLength - 8));
            }

            FixCrc(buffer);
            var status = WalReader.TryReadNext(buffer, out var view, out var consumed, out var corruption);

            Assert.NotEqual(WalReadStatus.Incomplete, status);
            if (status == WalReadStatus.Ok)
            {
                ok++;
                Assert.Equal(WalCorruption.None, corruption);
                Assert.Equal(buffer, Encode(view.ToRecord()));
            }
            else
            {
                Assert.NotEqual(WalCorruption.None, corruption);
                Assert.Equal(0, consumed);
            }
        }, cases: 20_000);

        Assert.True(ok > 0, "Some mutations (in the value or LSN) must still decode.");
    }

    [Theory]
    [InlineData(8, 3, WalCorruption.UnsupportedFormat)]
    [InlineData(9, 0, WalCorruption.UnknownType)]
    [InlineData(9, 3, WalCorruption.UnknownType)]
    [InlineData(25, 0x80, WalCorruption.InvalidHlc)]
    [InlineData(27, (byte)' ', WalCorruption.InvalidOrigin)]
    [InlineData(29, 2, WalCorruption.InvalidDot)]
    [InlineData(29, 0, WalCorruption.InvalidDot)]
    [InlineData(37, 65, WalCorruption.InvalidContext)]
    [InlineData(39, (byte)'v', WalCorruption.InvalidContext)]
    [InlineData(41, 0, WalCorruption.InvalidContext)]
    [InlineData(62, 0x0A, WalCorruption.InvalidKey)]
    [InlineData(62, 0xFF, WalCorruption.InvalidKey)]
    [InlineData(60, 0, WalCorruption.InvalidKey)]
    [InlineData(72, 0x7F, WalCorruption.InvalidContentType)]
    [InlineData(82, 5, WalCorruption.LengthMismatch)]
    [InlineData(85, 0x01, WalCorruption.InvalidValue)]
    [InlineData(71, 200, WalCorruption.LengthMismatch)]
    public void TryReadNext_WhenFieldIsInvalidButCrcMatches_ReturnsCorruptWithReason(int offset, byte value, WalCorruption expected)
    {
        var buffer = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        buffer[offset] = value;
        FixCrc(buffer);

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(buffer, out _, out _, out var corruption));
        Assert.Equal(expected, corruption);
    }

    [Fact]
    public void TryReadNext_WhenDeleteCarriesValue_ReturnsInvalidTombstone()
    {
        var buffer = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        buffer[9] = (byte)WalRecordType.Delete;
        FixCrc(buffer);

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(buffer, out _, out _, out var corruption));
        Assert.Equal(WalCorruption.InvalidTombstone, corruption);
    }

    [Theory]
    [InlineData(0U)]
    [InlineData(36U)]
    [InlineData(0xFFFFFFFFU)]
    [InlineData(0x02000000U)]
    public void TryReadNext_WhenLengthOutOfRange_ReturnsCorruptFromFourBytes(uint length)
    {
        var buffer = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, length);

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(buffer, out _, out _, out var corruption));
        Assert.Equal(WalCorruption.LengthOutOfRange, corruption);
    }

    [Fact]
    public void TryReadNext_WhenCrcDiffers_ReturnsChecksumMismatch()
    {
        var buffer = Convert.FromHexString(WalTestData.DocumentedExampleHex);
        buffer[89] ^= 0x01;

        Assert.Equal(WalReadStatus.Corrupt, WalReader.TryReadNext(buffer, out _, out _, out var corruption));
        Assert.Equal(WalCorruption.ChecksumMismatch, corruption);
    }

    [Fact]
    public void TryPeekLength_WhenHeaderPresent_ReturnsTotalRecordLength()
    {
        var buffer = Convert.FromHexString(WalTestData.DocumentedExampleHex);

        Assert.True(WalReader.TryPeekLength(buffer.AsSpan(0, 4), out var length));
        Assert.Equal(90, length);
        Assert.False(WalReader.TryPeekLength(buffer.AsSpan(0, 3), out _));
        Assert.False(WalReader.TryPeekLength(new byte[4], out _));
    }

    [Fact]
    public void TryReadNext_WhenSegmentHasTornTail_ReadsWholeRecordsThenIncomplete()
    {
        var random = new Random(3);
        var records = Enumerable.Range(0, 5).Select(_ => WalTestData.RandomRecord(random)).ToArray();
        var bytes = records.SelectMany(Encode).ToArray();
        var torn = bytes.AsSpan(0, bytes.Length - 3);

        var decoded = new List<WalRecord>();
        WalReadStatus status;
        while ((status = WalReader.TryReadNext(torn, out var view, out var consumed)) == WalReadStatus.Ok)
        {
            decoded.Add(view.ToRecord());
            torn = torn[consumed..];
        }

        Assert.Equal(WalReadStatus.Incomplete, status);
        Assert.Equal(4, decoded.Count);
        Assert.Equal(records[3].Lsn, decoded[3].Lsn);
    }

    private static byte[] Encode(WalRecord record)
    {
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];
        WalEncoder.Encode(record, buffer);
        return buffer;
    }

    private static void FixCrc(byte[] buffer) =>
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), Crc32C.Compute(buffer.AsSpan(8)));
}
