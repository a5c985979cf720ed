using System.Buffers;
using AzKv.Checkpoints;
using AzKv.Versioning;

namespace AzKv.Core.Tests.Checkpoints;

public sealed class CheckpointWriterTests
{
    [Fact]
    public void Complete_WhenDocumentedExample_ProducesDocumentedBytes()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(output, partitionId: 3, lsn: 42, keyCount: 1);

        writer.Add("app/color", CheckpointTestData.DocumentedExampleState());
        writer.Complete();

        Assert.Equal(CheckpointTestData.DocumentedExampleHex, Convert.ToHexString(output.WrittenSpan));
        Assert.Equal(135, writer.BytesWritten);
    }

    [Fact]
    public void Complete_WhenNoKeys_WritesHeaderAndTrailerOnly()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(output, partitionId: 0, lsn: 0, keyCount: 0);

        writer.Complete();

        Assert.Equal(36, output.WrittenCount);
        Assert.Equal("AZKVCKPT"u8.ToArray(), output.WrittenSpan[..8].ToArray());
    }

    [Fact]
    public void Add_WhenKeysOutOfOrdinalOrder_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 0, 0, 2);
        writer.Add("b", CheckpointTestData.DocumentedExampleState());

        Assert.Throws<ArgumentException>(() => writer.Add("B", CheckpointTestData.DocumentedExampleState()));
        Assert.Throws<ArgumentException>(() => writer.Add("b", CheckpointTestData.DocumentedExampleState()));
    }

    [Fact]
    public void Add_WhenMoreKeysThanAnnounced_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 0, 0, 1);
        writer.Add("a", CheckpointTestData.DocumentedExampleState());

        Assert.Throws<InvalidOperationException>(() => writer.Add("b", CheckpointTestData.DocumentedExampleState()));
    }

    [Fact]
    public void Add_WhenKeyInvalid_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 0, 0, 1);

        Assert.Throws<ArgumentException>(() => writer.Add("a\tb", CheckpointTestData.DocumentedExampleState()));
    }

    [Fact]
    public void Complete_WhenFewerKeysThanAnnounced_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 0, 0, 2);
        writer.Add("a", CheckpointTestData.DocumentedExampleState());

        Assert.Throws<InvalidOperationException>(writer.Complete);
    }

    [Fact]
    public void Complete_WhenCalledTwice_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 0, 0, 0);
        writer.Complete();

        Assert.Throws<InvalidOperationException>(writer.Complete);
    }

    [Fact]
    public async Task WriteAsync_WhenValuesCrossFlushThreshold_WritesSameBytesAsBufferWriter()
    {
        var random = new Random(5);
        var entries = Enumerable.Range(0, 5)
            .Select(i =>
            {
                var value = new byte[600 * 1024];
                random.NextBytes(value);
                var state = SiblingSet.Empty.Put("eu", VersionVector.Empty, value, "application/octet-stream", i).State;
                return new KeyValuePair<string, SiblingSet>($"key-{i}", state);
            })
            .ToList();
        var expected = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(expected, 1, 99, entries.Count);
        foreach (var (key, state) in entries)
        {
            writer.Add(key, state);
        }

        writer.Complete();
        using var stream = new MemoryStream();

        var length = await CheckpointWriter.WriteAsync(stream, 1, 99, entries, CancellationToken.None);

        Assert.Equal(expected.WrittenCount, length);
        Assert.Equal(expected.WrittenSpan.ToArray(), stream.ToArray());
    }
}
