using System.Buffers;
using AzKv.Keys;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

public sealed class WalEncoderTests
{
    [Fact]
    public void Encode_WhenDocumentedExample_ProducesDocumentedBytes()
    {
        var record = WalTestData.DocumentedExample();
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];

        var written = WalEncoder.Encode(record, buffer);

        Assert.Equal(90, written);
        Assert.Equal(WalTestData.DocumentedExampleHex, Convert.ToHexString(buffer));
    }

    [Fact]
    public void GetEncodedLength_WhenRandomRecord_EqualsBytesWritten()
    {
        Property.ForAll(random =>
        {
            var record = WalTestData.RandomRecord(random);
            var buffer = new byte[WalEncoder.GetEncodedLength(record) + 16];

            Assert.Equal(WalEncoder.GetEncodedLength(record), WalEncoder.Encode(record, buffer));
        });
    }

    [Fact]
    public void Encode_WhenDestinationTooSmall_Throws()
    {
        var record = WalTestData.DocumentedExample();

        Assert.Throws<ArgumentException>(() => WalEncoder.Encode(record, new byte[89]));
    }

    [Fact]
    public void Encode_WhenRecordIsDefault_Throws()
    {
        Assert.Throws<ArgumentException>(() => WalEncoder.Encode(default, new byte[1000]));
    }

    [Fact]
    public void WriteBatch_WhenGivenRecords_AppendsThemInOrder()
    {
        var random = new Random(7);
        var records = Enumerable.Range(0, 20).Select(_ => WalTestData.RandomRecord(random)).ToArray();
        var writer = new ArrayBufferWriter<byte>();

        var written = WalEncoder.WriteBatch(writer, records);

        Assert.Equal(WalEncoder.GetEncodedLength(records), written);
        Assert.Equal(written, writer.WrittenCount);
        var span = writer.WrittenSpan;
        foreach (var expected in records)
        {
            Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(span, out var view, out var consumed));
            WalTestData.AssertSameRecord(expected, view.ToRecord());
            span = span[consumed..];
        }

        Assert.True(span.IsEmpty);
    }

    [Fact]
    public void WriteBatch_WhenOutputHasCapacity_AllocatesNothingPerRecord()
    {
        var random = new Random(11);
        var records = Enumerable.Range(0, 1_000).Select(_ => WalTestData.RandomRecord(random)).ToArray();
        var writer = new ArrayBufferWriter<byte>((int)WalEncoder.GetEncodedLength(records));

        // Warm up every code path first, and keep the best of three runs, so JIT work and other one-off allocations
        // on this thread cannot make the test flaky; a per-record allocation would show in every run.
        var allocated = long.MaxValue;
        for (var run = 0; run < 4; run++)
        {
            writer.ResetWrittenCount();
            var before = GC.GetAllocatedBytesForCurrentThread();
            WalEncoder.WriteBatch(writer, records);
            var after = GC.GetAllocatedBytesForCurrentThread();
            if (run > 0)
            {
                allocated = Math.Min(allocated, after - before);
            }
        }

        Assert.True(allocated < 1_000, $"Encoding 1,000 records allocated {allocated} bytes.");
    }

    [Fact]
    public void MaxRecordLength_WhenComputed_MatchesDocumentedBounds()
    {
        // docs/record-format.md states these numbers.
        Assert.Equal(37, WalFormat.MinBodyLength);
        Assert.Equal(16_787_364, WalFormat.MaxBodyLength);
        Assert.Equal(16_787_372, WalEncoder.MaxRecordLength);
    }

    [Fact]
    public void Encode_WhenRecordIsAtEveryLimit_DecodesBack()
    {
        var regions = Enumerable.Range(0, VersionVector.MaxEntries)
            .Select(i => (new string('r', RegionId.MaxLength - 2) + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), ulong.MaxValue - 1))
            .ToArray();
        var context = VersionVector.Create(regions);
        var origin = regions[0].Item1;
        var version = VersionedValue.CreatePut(
            new Dot(origin, ulong.MaxValue),
            long.MaxValue,
            new string('t', VersionedValue.MaxContentTypeLength),
            new byte[VersionedValue.MaxValueBytes]);
        var record = new WalRecord(ulong.MaxValue, new string('€', KeyValidation.MaxKeyBytes / 3) + "k", new CausalWrite(context, version));
        var buffer = new byte[WalEncoder.GetEncodedLength(record)];

        WalEncoder.Encode(record, buffer);

        // The largest format 1 record: the format 2 block (u16 length + tagged fields) is all the room left.
        Assert.Equal(WalEncoder.MaxRecordLength - 2 - WalFormat.MaxTaggedFieldsLength, buffer.Length);
        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(buffer, out var view, out var consumed));
        Assert.Equal(buffer.Length, consumed);
        WalTestData.AssertSameRecord(record, view.ToRecord());
    }
}
