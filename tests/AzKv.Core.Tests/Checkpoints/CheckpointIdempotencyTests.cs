using System.Buffers;
using System.Buffers.Binary;
using AzKv.Checkpoints;
using AzKv.Partitions;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Checkpoints;

/// <summary>Format 2 of the checkpoint: the idempotency section between the key entries and the trailer.</summary>
public sealed class CheckpointIdempotencyTests
{
    [Fact]
    public void Open_WhenFormat2WithIdempotencyEntries_ReadsKeysAndEntriesBack()
    {
        var bytes = Write(
            ("app/color", "op-1", false, true, 40L, 1000L),
            ("app/color", "op-2", true, false, 42L, 1001L));

        var reader = CheckpointReader.Open(bytes, "ckpt");
        var keys = reader.ReadAll();

        Assert.Equal(2, reader.Header.Format);
        Assert.Equal("app/color", Assert.Single(keys).Key);
        var entries = reader.IdempotencyEntries;
        Assert.Equal(2, entries.Count);
        Assert.Equal(("app/color", "op-1", false, true, 40L, 1000L), (entries[0].Key, entries[0].IdempotencyKey, entries[0].IsDelete, entries[0].Created, entries[0].Lsn, entries[0].Hlc));
        Assert.Equal(("op-2", true, false, 42L), (entries[1].IdempotencyKey, entries[1].IsDelete, entries[1].Created, entries[1].Lsn));
        Assert.True(entries[1].Matches(CheckpointTestData.Fingerprint));
        Assert.Equal(CheckpointTestData.DocumentedExampleState().Context, entries[0].Context);
    }

    [Fact]
    public void Open_WhenFormat1_HasNoIdempotencyEntries()
    {
        var reader = CheckpointReader.Open(Convert.FromHexString(CheckpointTestData.DocumentedExampleHex), "ckpt");
        reader.ReadAll();

        Assert.Equal(1, reader.Header.Format);
        Assert.Empty(reader.IdempotencyEntries);
    }

    [Fact]
    public void Serialize_WhenStateHasNoIdempotencyEntries_StillWritesFormat1()
    {
        var state = PartitionState.FromEntries([new("app/color", CheckpointTestData.DocumentedExampleState())], 42);

        var bytes = CheckpointCodec.Serialize(3, state);

        Assert.Equal(CheckpointTestData.DocumentedExampleHex, Convert.ToHexString(bytes.Span));
    }

    [Fact]
    public void Deserialize_WhenSerializedWithAWindow_RestoresIt()
    {
        var entry = new IdempotencyEntry("app/color", "op-9", CheckpointTestData.Fingerprint, false, true, CheckpointTestData.DocumentedExampleState().Context, 42, 7);
        var state = PartitionState.FromEntries([new("app/color", CheckpointTestData.DocumentedExampleState())], 42, IdempotencyWindow.Empty.With([entry], 0));

        var restored = CheckpointCodec.Deserialize(3, "ckpt", CheckpointCodec.Serialize(3, state));

        var found = restored.Idempotency.Find("app/color", "op-9", 0);
        Assert.NotNull(found);
        Assert.Equal(entry.Context.ToETag(), found.Context.ToETag());
        Assert.True(found.Created);
        Assert.Equal(42, found.Lsn);
    }

    [Fact]
    public void Open_WhenAnIdempotencyEntryIsPastTheCheckpointsLsn_ThrowsCorruptData()
    {
        // Re-sealed after the change, so only the entry check can catch it.
        var bytes = Write(("app/color", "op-1", false, true, 42L, 1000L));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(LsnOffset(bytes)), 43);
        CheckpointTestData.FixCrc(bytes);

        var reader = CheckpointReader.Open(bytes, "ckpt");

        Assert.Throws<CorruptDataException>(() => reader.ReadAll());
    }

    [Fact]
    public void AddIdempotency_WhenOutOfLsnOrderOrBeforeTheKeys_Throws()
    {
        var writer = new CheckpointWriter(new ArrayBufferWriter<byte>(), 3, 42, keyCount: 1, idempotencyCount: 2);
        var context = CheckpointTestData.DocumentedExampleState().Context;

        Assert.Throws<InvalidOperationException>(() => writer.AddIdempotency("k", "op", CheckpointTestData.Fingerprint, false, false, 1, 0, context));
        writer.Add("app/color", CheckpointTestData.DocumentedExampleState());
        writer.AddIdempotency("k", "op", CheckpointTestData.Fingerprint, false, false, 5, 0, context);
        Assert.Throws<ArgumentException>(() => writer.AddIdempotency("k", "op2", CheckpointTestData.Fingerprint, false, false, 5, 0, context));
        Assert.Throws<ArgumentException>(() => writer.AddIdempotency("k", "op 2", CheckpointTestData.Fingerprint, false, false, 6, 0, context));
        Assert.Throws<InvalidOperationException>(writer.Complete);
    }

    private static int LsnOffset(byte[] bytes)
    {
        // The single entry ends with lsn(8) hlc(8) context, right before the trailer.
        var contextLength = CheckpointTestData.DocumentedExampleState().Context.GetEncodedLength();
        return bytes.Length - 4 - contextLength - 8 - 8;
    }

    private static byte[] Write(params (string Key, string Id, bool IsDelete, bool Created, long Lsn, long Hlc)[] entries)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(output, 3, 42, 1, entries.Length);
        writer.Add("app/color", CheckpointTestData.DocumentedExampleState());
        foreach (var e in entries)
        {
            writer.AddIdempotency(e.Key, e.Id, CheckpointTestData.Fingerprint, e.IsDelete, e.Created, e.Lsn, e.Hlc, CheckpointTestData.DocumentedExampleState().Context);
        }

        writer.Complete();
        return output.WrittenSpan.ToArray();
    }
}
