using System.Buffers;
using System.Buffers.Binary;
using AzKv.Checkpoints;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Checkpoints;

public sealed class CheckpointReaderTests
{
    private const string Source = "partitions/0003/checkpoints/00000000000000000042.ckpt";

    [Fact]
    public void Open_WhenDocumentedExample_ReadsHeaderAndEntry()
    {
        var reader = CheckpointReader.Open(Convert.FromHexString(CheckpointTestData.DocumentedExampleHex), Source);

        Assert.Equal(new CheckpointHeader(3, 42, 1), reader.Header);
        Assert.True(reader.TryReadNext(out var key, out var state));
        Assert.Equal("app/color", key);
        Assert.Equal(CheckpointTestData.DocumentedExampleState(), state);
        Assert.False(reader.TryReadNext(out _, out _));
    }

    [Fact]
    public void ReadAll_WhenRandomPartition_RoundTrips()
    {
        Property.ForAll(random =>
        {
            var entries = CheckpointTestData.RandomEntries(random);
            var lsn = (ulong)random.NextInt64();
            var bytes = Write(7, lsn, entries);

            var reader = CheckpointReader.Open(bytes, Source);

            Assert.Equal(new CheckpointHeader(7, lsn, entries.Count), reader.Header);
            var read = reader.ReadAll();
            Assert.Equal(entries.Select(e => e.Key), read.Select(e => e.Key));
            Assert.Equal(entries.Select(e => e.Value), read.Select(e => e.Value));
        }, cases: Property.DefaultCases);
    }

    [Fact]
    public async Task OpenAsync_WhenReadingStream_ReturnsSameEntries()
    {
        var entries = CheckpointTestData.RandomEntries(new Random(9));
        using var stream = new MemoryStream();
        await CheckpointWriter.WriteAsync(stream, 2, 5, entries, CancellationToken.None);
        stream.Position = 0;

        var reader = await CheckpointReader.OpenAsync(stream, Source, CancellationToken.None);

        Assert.Equal(entries.Select(e => e.Value), reader.ReadAll().Select(e => e.Value));
    }

    [Fact]
    public void TryReadNext_WhenSourceBufferIsReused_KeepsValues()
    {
        var bytes = Convert.FromHexString(CheckpointTestData.DocumentedExampleHex);
        var reader = CheckpointReader.Open(bytes, Source);
        reader.TryReadNext(out _, out var state);

        Array.Clear(bytes);

        Assert.Equal("blue"u8.ToArray(), state.Winner!.Value.ToArray());
    }

    [Fact]
    public void Open_WhenMagicWrong_ThrowsCorruptDataAtOffsetZero()
    {
        var bytes = Convert.FromHexString(CheckpointTestData.DocumentedExampleHex);
        bytes[0] = (byte)'X';

        var exception = Assert.Throws<CorruptDataException>(() => CheckpointReader.Open(bytes, Source));

        Assert.Equal(0, exception.Offset);
        Assert.Equal(Source, exception.SourceName);
        Assert.Contains("magic", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WhenVersionUnknown_ThrowsCorruptData()
    {
        var bytes = Convert.FromHexString(CheckpointTestData.DocumentedExampleHex);
        bytes[8] = 4;

        var exception = Assert.Throws<CorruptDataException>(() => CheckpointReader.Open(bytes, Source));

        Assert.Equal(8, exception.Offset);
    }

    [Fact]
    public void Open_WhenAnyByteDamaged_ThrowsCorruptData()
    {
        var original = Convert.FromHexString(CheckpointTestData.DocumentedExampleHex);
        for (var i = 0; i < original.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var bytes = (byte[])original.Clone();
                bytes[i] ^= (byte)(1 << bit);

                Assert.Throws<CorruptDataException>(() => CheckpointReader.Open(bytes, Source).ReadAll());
            }
        }
    }

    [Fact]
    public void Open_WhenTruncatedAnywhere_ThrowsCorruptData()
    {
        var bytes = Write(1, 1, CheckpointTestData.RandomEntries(new Random(4), maxKeys: 5));
        for (var length = 0; length < bytes.Length; length++)
        {
            var truncated = bytes.AsMemory(0, length);

            Assert.Throws<CorruptDataException>(() => CheckpointReader.Open(truncated, Source).ReadAll());
        }
    }

    [Fact]
    public void TryReadNext_WhenKeysOutOfOrderWithValidCrc_ThrowsCorruptData()
    {
        var state = CheckpointTestData.DocumentedExampleState();
        var first = Write(0, 1, [new("a", state)]);
        var second = Write(0, 1, [new("b", state)]);
        var entry = (byte[] b) => b.AsSpan(32, b.Length - 36).ToArray();
        var bytes = first[..32].Concat(entry(second)).Concat(entry(first)).Concat(new byte[4]).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 2);
        CheckpointTestData.FixCrc(bytes);

        var reader = CheckpointReader.Open(bytes, Source);

        Assert.True(reader.TryReadNext(out var key, out _));
        Assert.Equal("b", key);
        var exception = Assert.Throws<CorruptDataException>(() => reader.TryReadNext(out _, out _));
        Assert.Contains("ordinal order", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadNext_WhenBytesAfterLastEntry_ThrowsCorruptData()
    {
        var bytes = Convert.FromHexString(CheckpointTestData.DocumentedExampleHex);
        var padded = bytes[..^4].Concat(new byte[] { 0 }).Concat(new byte[4]).ToArray();
        CheckpointTestData.FixCrc(padded);
        var reader = CheckpointReader.Open(padded, Source);
        reader.TryReadNext(out _, out _);

        var exception = Assert.Throws<CorruptDataException>(() => reader.TryReadNext(out _, out _));

        Assert.Equal(bytes.Length - 4, exception.Offset);
    }

    [Fact]
    public void Open_WhenKeyCountCannotFit_ThrowsCorruptData()
    {
        var bytes = Convert.FromHexString(CheckpointTestData.DocumentedExampleHex);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), ulong.MaxValue);
        CheckpointTestData.FixCrc(bytes);

        var exception = Assert.Throws<CorruptDataException>(() => CheckpointReader.Open(bytes, Source));

        Assert.Equal(24, exception.Offset);
    }

    [Fact]
    public void ReadAll_WhenEntriesMutatedWithValidCrc_ThrowsOnlyCorruptData()
    {
        // Damage the CRC cannot see (a writer bug) must still be rejected with CorruptDataException, never crash.
        Property.ForAll(random =>
        {
            var bytes = Write(0, 1, CheckpointTestData.RandomEntries(random, maxKeys: 4));
            if (bytes.Length <= 36)
            {
                return;
            }

            for (var i = random.Next(1, 4); i > 0; i--)
            {
                bytes[random.Next(32, bytes.Length - 4)] = (byte)random.Next(256);
            }

            CheckpointTestData.FixCrc(bytes);
            try
            {
                CheckpointReader.Open(bytes, Source).ReadAll();
            }
            catch (CorruptDataException exception)
            {
                Assert.InRange(exception.Offset, 0, bytes.Length);
            }
        }, cases: 3_000);
    }

    private static byte[] Write(int partition, ulong lsn, List<KeyValuePair<string, SiblingSet>> entries)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(output, partition, lsn, entries.Count);
        foreach (var (key, state) in entries)
        {
            writer.Add(key, state);
        }

        writer.Complete();
        return output.WrittenSpan.ToArray();
    }
}
