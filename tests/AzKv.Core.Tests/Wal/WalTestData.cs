using System.Text;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Wal;

/// <summary>Records for WAL tests: the documented example and random valid records.</summary>
internal static class WalTestData
{
    /// <summary>The example of docs/record-format.md, byte for byte.</summary>
    public const string DocumentedExampleHex =
        "52000000" + "0536054E" + "01" + "01" + "2A00000000000000" + "010000A8DA769B01"
        + "02" + "6575" + "0300000000000000"
        + "02" + "02" + "6575" + "0200000000000000" + "02" + "7573" + "0100000000000000"
        + "0900" + "6170702F636F6C6F72"
        + "0A" + "746578742F706C61696E"
        + "04000000" + "626C7565";

    private static readonly string[] Regions = ["a", "b", "eu", "us", "westeurope", new string('r', RegionId.MaxLength)];
    private static readonly string[] KeyAlphabet = ["a", "/", "-", "é", "€", "😀", "Z", "9", " "];

    /// <summary>lsn 42, put of "blue" (text/plain) to "app/color" in "eu" with dot (eu,3), context {eu:2, us:1}.</summary>
    public static WalRecord DocumentedExample()
    {
        var hlc = HybridLogicalClock.Pack(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), 1);
        var version = VersionedValue.CreatePut(new Dot("eu", 3), hlc, "text/plain", "blue"u8.ToArray());
        var write = new CausalWrite(VersionVector.Create(("eu", 2), ("us", 1)), version);
        return new WalRecord(42, "app/color", write);
    }

    public static WalRecord RandomRecord(Random random, int maxValue = 300)
    {
        var context = RandomContext(random);
        var origin = random.Pick(Regions);
        var dot = new Dot(origin, context[origin] + 1 + (ulong)random.Next(0, 3));
        var hlc = random.Next(4) == 0 ? long.MaxValue - random.Next(10) : random.NextInt64(0, 1L << 58);
        var version = random.Next(4) == 0
            ? VersionedValue.CreateTombstone(dot, hlc)
            : VersionedValue.CreatePut(dot, hlc, RandomContentType(random), random.NextBytes(random.Next(3) == 0 ? maxValue : Math.Min(8, maxValue)));
        var lsn = random.Next(4) == 0 ? ulong.MaxValue - (ulong)random.Next(5) : (ulong)random.NextInt64(0, long.MaxValue);
        var idempotency = random.Next(3) == 0 ? RandomIdempotency(random, created: !version.IsTombstone && random.Next(2) == 0) : null;
        return new WalRecord(lsn, RandomKey(random), new CausalWrite(context, version), idempotency);
    }

    public static WalIdempotency RandomIdempotency(Random random, bool created)
    {
        var key = new char[random.Next(3) == 0 ? 128 : random.Next(1, 40)];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = (char)random.Next(0x21, 0x7F);
        }

        var fingerprint = new byte[WalTags.FingerprintLength];
        random.NextBytes(fingerprint);
        return new WalIdempotency(new string(key), fingerprint, created);
    }

    public static string RandomKey(Random random)
    {
        var builder = new StringBuilder();
        var length = random.Next(10) == 0 ? 300 : random.Next(1, 12);
        while (builder.Length < length)
        {
            builder.Append(random.Pick(KeyAlphabet));
        }

        return builder.ToString();
    }

    public static VersionVector RandomContext(Random random)
    {
        var entries = new List<(string, ulong)>();
        foreach (var region in Regions)
        {
            if (random.Next(2) == 0)
            {
                entries.Add((region, (ulong)random.Next(1, 1000)));
            }
        }

        return VersionVector.Create([.. entries]);
    }

    public static void AssertSameRecord(WalRecord expected, WalRecord actual)
    {
        Assert.Equal(expected.Lsn, actual.Lsn);
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Write, actual.Write);
        Assert.Equal(expected.Idempotency, actual.Idempotency);
        Assert.Equal(expected.Writer, actual.Writer);
    }

    private static string RandomContentType(Random random) => random.Next(4) switch
    {
        0 => string.Empty,
        1 => "application/json",
        2 => new string('x', VersionedValue.MaxContentTypeLength),
        _ => "text/plain; charset=utf-8",
    };
}
