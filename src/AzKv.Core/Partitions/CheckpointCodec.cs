using System.Buffers;
using AzKv.Checkpoints;
using AzKv.Wal;

namespace AzKv.Partitions;

/// <summary>The engine's use of the checkpoint format (docs/record-format.md).</summary>
internal static class CheckpointCodec
{
    /// <summary>Serializes the whole state of a partition.</summary>
    public static ReadOnlyMemory<byte> Serialize(int partition, PartitionState state)
    {
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        var idempotency = state.Idempotency.Entries.ToList();
        var writers = state.Writers.Where(w => state.Keys.ContainsKey(w.Key)).OrderBy(w => w.Key, StringComparer.Ordinal).ToList();
        var writer = new CheckpointWriter(output, partition, (ulong)state.Lsn, state.Keys.Count, idempotency.Count, writers.Count);
        foreach (var (key, set) in state.Keys)
        {
            writer.Add(key, set);
        }

        foreach (var entry in idempotency)
        {
            writer.AddIdempotency(entry.Key, entry.IdempotencyKey, entry.Fingerprint.Span, entry.IsDelete, entry.Created, entry.Lsn, entry.Hlc, entry.Context);
        }

        foreach (var (key, last) in writers)
        {
            writer.AddWriter(key, last.Writer, last.Hlc);
        }

        writer.Complete();
        return output.WrittenMemory;
    }

    /// <summary>Reads a checkpoint back; a bad one is a <see cref="PartitionStorageException"/>.</summary>
    public static PartitionState Deserialize(int partition, string name, ReadOnlyMemory<byte> data)
    {
        try
        {
            var reader = CheckpointReader.Open(data, name);
            if (reader.Header.PartitionId != partition)
            {
                throw new PartitionStorageException($"Checkpoint {name} belongs to partition {reader.Header.PartitionId}, not {partition}.");
            }

            var keys = reader.ReadAll();
            return PartitionState.FromEntries(
                keys, (long)reader.Header.Lsn, IdempotencyWindow.Empty.With(reader.IdempotencyEntries, minHlc: 0), reader.Writers);
        }
        catch (CorruptDataException ex)
        {
            throw new PartitionStorageException($"Partition {partition}: checkpoint {name} is corrupt: {ex.Message}", ex);
        }
    }
}
