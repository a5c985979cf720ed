using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class DotTests
{
    [Fact]
    public void Constructor_WhenCounterIsZero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dot("a", 0));
    }

    [Fact]
    public void Constructor_WhenRegionInvalid_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Dot("no spaces", 1));
    }

    [Fact]
    public void Equals_WhenSameRegionAndCounter_IsTrue()
    {
        Assert.Equal(new Dot("a", 2), new Dot("a", 2));
        Assert.NotEqual(new Dot("a", 2), new Dot("A", 2));
        Assert.NotEqual(new Dot("a", 2), new Dot("a", 3));
    }

    [Fact]
    public void CompareCanonical_WhenRegionsDiffer_OrdersByOrdinalRegionThenCounter()
    {
        Dot[] dots = [new("b", 1), new("a", 10), new("B", 5), new("a", 2)];

        var sorted = dots.Order(Comparer<Dot>.Create(Dot.CompareCanonical)).ToArray();

        Assert.Equal([new Dot("B", 5), new Dot("a", 2), new Dot("a", 10), new Dot("b", 1)], sorted);
    }

    [Fact]
    public void ToString_WhenFormatted_IsRegionColonCounter()
    {
        Assert.Equal("eastus:42", new Dot("eastus", 42).ToString());
    }
}
