using AzKv.Server.Api;

namespace AzKv.Server.Tests;

/// <summary>Decoding keys from raw request targets (HttpClient normalises some of these, so they are tested here).</summary>
public sealed class KeyPathTests
{
    [Theory]
    [InlineData("app/color", "app/color")]
    [InlineData("a%2Fb", "a/b")]
    [InlineData("a%252Fb", "a%2Fb")]
    [InlineData("k%C3%A9y%20x", "kéy x")]
    [InlineData("100%25", "100%")]
    public void Decode_WhenValidPercentEncoding_ReturnsTheKey(string encoded, string expected)
    {
        Assert.Equal(expected, KeyPath.Decode(encoded, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("bad%zz")]
    [InlineData("bad%2")]
    [InlineData("bad%")]
    [InlineData("bad%C3")]
    [InlineData("bad%FF%FE")]
    [InlineData("raw-é")]
    public void Decode_WhenEncodingIsInvalid_ReturnsNullWithAReason(string encoded)
    {
        Assert.Null(KeyPath.Decode(encoded, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
