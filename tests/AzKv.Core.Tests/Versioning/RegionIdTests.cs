using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class RegionIdTests
{
    [Theory]
    [InlineData("eastus", true)]
    [InlineData("west-europe_2.a", true)]
    [InlineData("A", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("east us", false)]
    [InlineData("é", false)]
    [InlineData("a/b", false)]
    [InlineData("a:b", false)]
    public void IsValid_WhenGivenString_ChecksAllowedCharacters(string? region, bool expected)
    {
        Assert.Equal(expected, RegionId.IsValid(region));
        if (region is not null)
        {
            Assert.Equal(expected, RegionId.IsValid(System.Text.Encoding.UTF8.GetBytes(region)));
        }
    }

    [Fact]
    public void IsValid_WhenLongerThan64_ReturnsFalse()
    {
        Assert.True(RegionId.IsValid(new string('a', 64)));
        Assert.False(RegionId.IsValid(new string('a', 65)));
    }

    [Fact]
    public void ThrowIfInvalid_WhenInvalid_ThrowsNamingParameter()
    {
        var exception = Assert.Throws<ArgumentException>(() => RegionId.ThrowIfInvalid("bad id", "region"));

        Assert.Equal("region", exception.ParamName);
    }
}
