using System.Buffers;
using System.Buffers.Binary;
using AzKv.Checkpoints;
using AzKv.Core.Tests.Versioning;
using AzKv.Core.Tests.Wal;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Checkpoints;

/// <summary>Checkpoint contents for tests: the documented example, random partitions, and re-sealing edited bytes.</summary>
internal static class CheckpointTestData
{
    /// <summary>The example of docs/record-format.md: partition 3 at LSN 42, one key with a value and a concurrent tombstone.</summary>
    public const string DocumentedExampleHex =
        "415A4B56434B5054" + "01" + "000000" + "03000000" + "2A00000000000000" + "0100000000000000"
        + "0900" + "6170702F636F6C6F72"
        + "02" + "02" + "6575" + "0300000000000000" + "02" + "7573" + "0100000000000000"
        + "02"
        + "02" + "6575" + "0300000000000000" + "010000A8DA769B01" + "00" + "0A" + "746578742F706C61696E" + "04000000" + "626C7565"
        + "02" + "7573" + "0100000000000000" + "000000A8DA769B01" + "01" + "00" + "00000000"
        + "08C0CD93";

    /// <summary>The request fingerprint of the idempotency entries the tests write.</summary>
    public static readonly byte[] Fingerprint = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    public static long ExampleMs => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static SiblingSet DocumentedExampleState()
    {
        var put = VersionedValue.CreatePut(new Dot("eu", 3), HybridLogicalClock.Pack(ExampleMs, 1), "text/plain", "blue"u8.ToArray());
        var tombstone = VersionedValue.CreateTombstone(new Dot("us", 1), HybridLogicalClock.Pack(ExampleMs, 0));
        return SiblingSet.Create(VersionVector.Create(("eu", 3), ("us", 1)), [tombstone, put]);
    }

    /// <summary>A random partition: keys in ordinal order, each with a state reached by a random multi-region history.</summary>
    public static List<KeyValuePair<string, SiblingSet>> RandomEntries(Random random, int maxKeys = 20)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var count = random.Next(0, maxKeys + 1);
        while (keys.Count < count)
        {
            keys.Add(WalTestData.RandomKey(random));
        }

        var entries = new List<KeyValuePair<string, SiblingSet>>();
        foreach (var key in keys)
        {
            var simulation = new DvvSimulation(random, random.Next(1, 4), staleContexts: random.Next(2) == 0);
            simulation.Run(random.Next(1, 12));
            entries.Add(new(key, simulation.States.Aggregate(SiblingSet.Empty, (s, r) => s.Merge(r))));
        }

        return entries;
    }

    /// <summary>
    /// A format-3 checkpoint of partition 1 at LSN 42 holding the documented example's key, with
    /// <paramref name="idempotencyEntries"/> and one last writer that <paramref name="addSections"/> adds.
    /// </summary>
    public static ReadOnlyMemory<byte> WriteFormat3(int idempotencyEntries, Action<CheckpointWriter> addSections)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CheckpointWriter(output, 3, 42, 1, idempotencyEntries, 1);
        writer.Add("app/color", DocumentedExampleState());
        addSections(writer);
        writer.Complete();
        return output.WrittenMemory;
    }

    /// <summary>Recomputes the trailing CRC-32C after a test edited the bytes, so only the content checks can catch the edit.</summary>
    public static void FixCrc(byte[] bytes) =>
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
}
