using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class VersionedValueTests
{
    private static readonly Dot A1 = new("a", 1);

    [Fact]
    public void CreatePut_WhenValid_ExposesFields()
    {
        var version = VersionedValue.CreatePut(A1, 7, "application/json", new byte[] { 1, 2 });

        Assert.Equal(A1, version.Dot);
        Assert.Equal(7, version.Hlc);
        Assert.False(version.IsTombstone);
        Assert.Equal("application/json", version.ContentType);
        Assert.Equal(new byte[] { 1, 2 }, version.Value.ToArray());
    }

    [Fact]
    public void CreateTombstone_WhenCreated_HasNoValueOrContentType()
    {
        var version = VersionedValue.CreateTombstone(A1, 9);

        Assert.True(version.IsTombstone);
        Assert.Equal(string.Empty, version.ContentType);
        Assert.True(version.Value.IsEmpty);
    }

    [Fact]
    public void Constructor_WhenTombstoneHasValue_Throws()
    {
        Assert.Throws<ArgumentException>(() => new VersionedValue(A1, 1, isTombstone: true, "", new byte[] { 1 }));
        Assert.Throws<ArgumentException>(() => new VersionedValue(A1, 1, isTombstone: true, "text/plain", default));
    }

    [Fact]
    public void Constructor_WhenHlcNegative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VersionedValue.CreatePut(A1, -1, "", default));
    }

    [Fact]
    public void Constructor_WhenDotIsDefault_Throws()
    {
        Assert.Throws<ArgumentException>(() => VersionedValue.CreatePut(default, 1, "", default));
    }

    [Fact]
    public void Constructor_WhenValueOverHardCap_Throws()
    {
        var value = new byte[VersionedValue.MaxValueBytes + 1];

        Assert.Throws<ArgumentException>(() => VersionedValue.CreatePut(A1, 1, "", value));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("text/plain; charset=utf-8", true)]
    [InlineData("text/plain\n", false)]
    [InlineData("tëxt", false)]
    [InlineData(null, false)]
    public void IsValidContentType_WhenGiven_AcceptsOnlyPrintableAscii(string? contentType, bool expected)
    {
        Assert.Equal(expected, VersionedValue.IsValidContentType(contentType));
    }

    [Fact]
    public void IsValidContentType_WhenLongerThan255_ReturnsFalse()
    {
        Assert.True(VersionedValue.IsValidContentType(new string('x', 255)));
        Assert.False(VersionedValue.IsValidContentType(new string('x', 256)));
    }

    [Fact]
    public void CompareLww_WhenHlcDiffers_OrdersByHlcFirst()
    {
        var older = VersionedValue.CreatePut(new Dot("z", 9), 1, "", default);
        var newer = VersionedValue.CreatePut(new Dot("a", 1), 2, "", default);

        Assert.True(VersionedValue.CompareLww(newer, older) > 0);
        Assert.True(VersionedValue.CompareLww(older, newer) < 0);
    }

    [Fact]
    public void CompareLww_WhenHlcTies_OrdersByRegionThenCounter()
    {
        var a1 = VersionedValue.CreatePut(new Dot("a", 1), 5, "", default);
        var a2 = VersionedValue.CreatePut(new Dot("a", 2), 5, "", default);
        var b1 = VersionedValue.CreatePut(new Dot("b", 1), 5, "", default);

        Assert.True(VersionedValue.CompareLww(b1, a2) > 0);
        Assert.True(VersionedValue.CompareLww(a2, a1) > 0);
        Assert.Equal(0, VersionedValue.CompareLww(a1, a1));
    }

    [Fact]
    public void Equals_WhenValueBytesDiffer_IsFalse()
    {
        var x = VersionedValue.CreatePut(A1, 1, "", new byte[] { 1 });
        var y = VersionedValue.CreatePut(A1, 1, "", new byte[] { 1 });
        var z = VersionedValue.CreatePut(A1, 1, "", new byte[] { 2 });

        Assert.Equal(x, y);
        Assert.NotEqual(x, z);
    }

    [Fact]
    public void WithOwnedValue_WhenValueIsSliceOfSharedBuffer_CopiesIt()
    {
        var buffer = new byte[] { 9, 1, 2, 9 };
        var version = VersionedValue.CreatePut(A1, 1, "", buffer.AsMemory(1, 2));

        var owned = version.WithOwnedValue();
        buffer[1] = 7;

        Assert.Equal(new byte[] { 1, 2 }, owned.Value.ToArray());
        Assert.Equal(new byte[] { 7, 2 }, version.Value.ToArray());
    }
}
