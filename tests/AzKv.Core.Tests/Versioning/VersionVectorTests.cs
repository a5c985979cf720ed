using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class VersionVectorTests
{
    [Fact]
    public void Get_WhenRegionAbsent_ReturnsZero()
    {
        var vector = VersionVector.Create(("a", 3));

        Assert.Equal(3UL, vector.Get("a"));
        Assert.Equal(0UL, vector.Get("b"));
        Assert.Equal(0UL, vector["zzz"]);
    }

    [Fact]
    public void Create_WhenCounterIsZero_DropsEntry()
    {
        var vector = VersionVector.Create(("a", 0), ("b", 2));

        Assert.Equal(1, vector.Count);
        Assert.Equal(VersionVector.Create(("b", 2)), vector);
    }

    [Fact]
    public void Create_WhenRegionRepeated_Throws()
    {
        Assert.Throws<ArgumentException>(() => VersionVector.Create(("a", 1), ("a", 2)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("é")]
    [InlineData("a\"b")]
    public void Create_WhenRegionIdInvalid_Throws(string region)
    {
        Assert.Throws<ArgumentException>(() => VersionVector.Create((region, 1)));
    }

    [Fact]
    public void Create_WhenMoreThanMaxEntries_Throws()
    {
        var entries = Enumerable.Range(0, VersionVector.MaxEntries + 1).Select(i => ($"r{i}", 1UL)).ToArray();

        Assert.Throws<ArgumentException>(() => VersionVector.Create(entries));
    }

    [Fact]
    public void Entries_WhenCreatedUnsorted_AreInOrdinalOrder()
    {
        var vector = VersionVector.Create(("b", 1), ("B", 2), ("a", 3), ("A", 4));

        Assert.Equal(["A", "B", "a", "b"], vector.Entries.Select(e => e.Key));
        Assert.Equal("[A:4, B:2, a:3, b:1]", vector.ToString());
    }

    [Fact]
    public void With_WhenSettingRegion_ReturnsNewVectorAndLeavesOriginal()
    {
        var original = VersionVector.Create(("a", 1));

        var updated = original.With("b", 5).With("a", 2);

        Assert.Equal(VersionVector.Create(("a", 1)), original);
        Assert.Equal(VersionVector.Create(("a", 2), ("b", 5)), updated);
    }

    [Fact]
    public void With_WhenCounterIsZero_RemovesRegion()
    {
        var vector = VersionVector.Create(("a", 1), ("b", 2));

        Assert.Equal(VersionVector.Create(("b", 2)), vector.With("a", 0));
        Assert.Same(VersionVector.Empty, VersionVector.Create(("a", 1)).With("a", 0));
    }

    [Theory]
    [InlineData("a:1", "a:1", VersionVectorOrder.Equal)]
    [InlineData("", "", VersionVectorOrder.Equal)]
    [InlineData("a:1", "a:2", VersionVectorOrder.Before)]
    [InlineData("a:2", "a:1", VersionVectorOrder.After)]
    [InlineData("a:1", "a:1,b:1", VersionVectorOrder.Before)]
    [InlineData("a:1,b:1", "", VersionVectorOrder.After)]
    [InlineData("a:2,b:1", "a:1,b:2", VersionVectorOrder.Concurrent)]
    [InlineData("a:1", "b:1", VersionVectorOrder.Concurrent)]
    [InlineData("a:1,c:5", "a:1,b:1,c:5", VersionVectorOrder.Before)]
    public void Compare_WhenGivenVectors_ReturnsCausalOrder(string left, string right, VersionVectorOrder expected)
    {
        Assert.Equal(expected, VersionVector.Compare(Parse(left), Parse(right)));
    }

    [Fact]
    public void Merge_WhenConcurrent_ReturnsPointwiseMax()
    {
        var merged = VersionVector.Merge(Parse("a:2,b:1,d:4"), Parse("a:1,b:3,c:1"));

        Assert.Equal(Parse("a:2,b:3,c:1,d:4"), merged);
    }

    [Fact]
    public void Covers_WhenDotCounterAtOrBelowEntry_ReturnsTrue()
    {
        var vector = Parse("a:3");

        Assert.True(vector.Covers(new Dot("a", 3)));
        Assert.True(vector.Covers(new Dot("a", 1)));
        Assert.False(vector.Covers(new Dot("a", 4)));
        Assert.False(vector.Covers(new Dot("b", 1)));
    }

    [Fact]
    public void Merge_WhenRandomVectors_IsCommutativeAssociativeIdempotentAndAnUpperBound()
    {
        Property.ForAll(random =>
        {
            var a = RandomVector(random);
            var b = RandomVector(random);
            var c = RandomVector(random);
            var ab = VersionVector.Merge(a, b);

            Assert.Equal(ab, VersionVector.Merge(b, a));
            Assert.Equal(VersionVector.Merge(ab, c), VersionVector.Merge(a, VersionVector.Merge(b, c)));
            Assert.Equal(a, VersionVector.Merge(a, a));
            Assert.Contains(VersionVector.Compare(a, ab), new[] { VersionVectorOrder.Before, VersionVectorOrder.Equal });
            Assert.Contains(VersionVector.Compare(b, ab), new[] { VersionVectorOrder.Before, VersionVectorOrder.Equal });
        });
    }

    [Fact]
    public void Compare_WhenRandomVectors_IsConsistentWithMergeAndAntisymmetric()
    {
        Property.ForAll(random =>
        {
            var a = RandomVector(random);
            var b = random.Next(4) == 0 ? a : RandomVector(random);
            var order = VersionVector.Compare(a, b);
            var reverse = VersionVector.Compare(b, a);
            var merged = VersionVector.Merge(a, b);

            switch (order)
            {
                case VersionVectorOrder.Equal:
                    Assert.Equal(VersionVectorOrder.Equal, reverse);
                    Assert.Equal(a, b);
                    break;
                case VersionVectorOrder.Before:
                    Assert.Equal(VersionVectorOrder.After, reverse);
                    Assert.Equal(b, merged);
                    break;
                case VersionVectorOrder.After:
                    Assert.Equal(VersionVectorOrder.Before, reverse);
                    Assert.Equal(a, merged);
                    break;
                default:
                    Assert.Equal(VersionVectorOrder.Concurrent, reverse);
                    Assert.NotEqual(a, merged);
                    Assert.NotEqual(b, merged);
                    break;
            }

            var pointwise = a.Entries.Select(e => e.Key).Union(b.Entries.Select(e => e.Key))
                .All(r => a[r] <= b[r]);
            Assert.Equal(pointwise, order is VersionVectorOrder.Before or VersionVectorOrder.Equal);
        });
    }

    [Fact]
    public void ToBytes_WhenGivenVector_WritesDocumentedLayout()
    {
        var bytes = Parse("eu:2,us:1").ToBytes();

        Assert.Equal(
            "02" + "02" + "6575" + "0200000000000000" + "02" + "7573" + "0100000000000000",
            Convert.ToHexString(bytes));
    }

    [Fact]
    public void TryDecode_WhenRandomVector_RoundTrips()
    {
        Property.ForAll(random =>
        {
            var vector = RandomVector(random);
            var bytes = vector.ToBytes();

            Assert.Equal(bytes.Length, vector.GetEncodedLength());
            Assert.True(VersionVector.TryDecode(bytes, out var decoded));
            Assert.Equal(vector, decoded);
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("010161010000000000000000")]
    [InlineData("0101610000000000000000")]
    [InlineData("020162010000000000000001610100000000000000")]
    [InlineData("020161010000000000000001610200000000000000")]
    [InlineData("0101200100000000000000")]
    [InlineData("0000")]
    [InlineData("41")]
    public void TryDecode_WhenNotCanonical_ReturnsFalse(string hex)
    {
        Assert.False(VersionVector.TryDecode(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void ToETag_WhenEmpty_IsQuotedAA()
    {
        Assert.Equal("\"AA\"", VersionVector.Empty.ToETag());
    }

    [Fact]
    public void ToETag_WhenGivenVector_IsQuotedUnpaddedBase64UrlOfEncoding()
    {
        var vector = Parse("eu:2,us:1");

        var etag = vector.ToETag();

        Assert.Equal("\"AgJldQIAAAAAAAAAAnVzAQAAAAAAAAA\"", etag);
        Assert.Equal('"' + Convert.ToBase64String(vector.ToBytes()).TrimEnd('=').Replace('+', '-').Replace('/', '_') + '"', etag);
    }

    [Fact]
    public void TryParseETag_WhenRandomVector_RoundTripsAndEqualVectorsGiveEqualETags()
    {
        Property.ForAll(random =>
        {
            var vector = RandomVector(random);
            var etag = vector.ToETag();

            Assert.True(VersionVector.TryParseETag(etag, out var parsed));
            Assert.Equal(vector, parsed);
            Assert.Equal(etag, VersionVector.Create(vector.Entries.Reverse()).ToETag());
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("\"")]
    [InlineData("\"\"")]
    [InlineData("AA")]
    [InlineData("W/\"AA\"")]
    [InlineData("\"AA==\"")]
    [InlineData("\"A A\"")]
    [InlineData("\"A\"")]
    [InlineData("\"AB\"")]
    [InlineData("\"!!\"")]
    [InlineData("*")]
    [InlineData("\"AgJldQIAAAAAAAAAAnVzAQAAAAAAAA\"")]
    [InlineData("\"AgJldQIAAAAAAAAAAnVzAQAAAAAAAAA=\"")]
    [InlineData("\"AgJldQIAAAAAAAAAAnVzAQAAAAAAAAB\"")]
    public void TryParseETag_WhenNotCanonicalETag_ReturnsFalse(string? etag)
    {
        Assert.False(VersionVector.TryParseETag(etag, out var vector));
        Assert.Same(VersionVector.Empty, vector);
    }

    [Fact]
    public void TryParseETag_WhenGivenRandomGarbage_NeverThrows()
    {
        const string alphabet = "\"W/AZaz09-_+=* \u00E9\u0000";
        Property.ForAll(random =>
        {
            var chars = new char[random.Next(0, 40)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = random.Next(3) == 0 ? (char)random.Next(0, 0x10000) : alphabet[random.Next(alphabet.Length)];
            }

            var text = random.Next(2) == 0 ? $"\"{new string(chars)}\"" : new string(chars);
            if (VersionVector.TryParseETag(text, out var vector))
            {
                Assert.Equal(text, vector.ToETag());
            }
            else
            {
                Assert.Same(VersionVector.Empty, vector);
            }
        }, cases: 5_000);
    }

    [Fact]
    public void ToETag_WhenVectorIsLargest_HasDocumentedLengthAndParses()
    {
        var entries = Enumerable.Range(0, VersionVector.MaxEntries)
            .Select(i => (new string('r', RegionId.MaxLength - 2) + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), ulong.MaxValue))
            .ToArray();
        var vector = VersionVector.Create(entries);

        var etag = vector.ToETag();

        Assert.Equal(6_233, etag.Length);
        Assert.True(VersionVector.TryParseETag(etag, out var parsed));
        Assert.Equal(vector, parsed);
    }

    [Fact]
    public void TryParseETag_WhenTooLong_ReturnsFalse()
    {
        Assert.False(VersionVector.TryParseETag("\"" + new string('A', 100_000) + "\"", out _));
    }

    [Fact]
    public void Equals_WhenSameEntries_IsTrueAndHashesMatch()
    {
        var a = Parse("a:1,b:2");
        var b = VersionVector.Create(("b", 2), ("a", 1));

        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.False(a != b);
        Assert.NotEqual(a, Parse("a:1,b:3"));
    }

    internal static VersionVector RandomVector(Random random)
    {
        var regions = new[] { "a", "b", "c", "d", "eastus", "westeurope" };
        var entries = new List<(string, ulong)>();
        foreach (var region in regions)
        {
            if (random.Next(2) == 0)
            {
                entries.Add((region, random.Next(5) == 0 ? ulong.MaxValue - (ulong)random.Next(3) : (ulong)random.Next(0, 6)));
            }
        }

        return VersionVector.Create([.. entries]);
    }

    private static VersionVector Parse(string text)
    {
        if (text.Length == 0)
        {
            return VersionVector.Empty;
        }

        return VersionVector.Create(text.Split(',')
            .Select(part => part.Split(':'))
            .Select(p => (p[0], ulong.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray());
    }
}
