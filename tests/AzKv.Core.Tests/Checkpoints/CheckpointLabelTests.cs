using System.Buffers;
using AzKv.Checkpoints;
using AzKv.Keys;

namespace AzKv.Core.Tests.Checkpoints;

public sealed class CheckpointLabelTests
{
    [Fact]
    public void ReadAll_WhenEntriesLabelled_ReturnsEachEntryKey()
    {
        string[] keys = ["app/color", Labels.EntryKey("app/color", "dev"), Labels.EntryKey("app/color", "prod")];
        var output = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(output, partitionId: 1, lsn: 9, keyCount: keys.Length);
        foreach (var key in keys)
        {
            writer.Add(key, CheckpointTestData.DocumentedExampleState());
        }

        writer.Complete();

        var read = CheckpointReader.Open(output.WrittenMemory, "test").ReadAll();
        Assert.Equal(keys, read.Select(e => e.Key));
    }

    [Fact]
    public void Add_WhenLabelInvalid_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 0, 0, 1);

        Assert.Throws<ArgumentException>(() => writer.Add("a\0x,y", CheckpointTestData.DocumentedExampleState()));
    }
}
