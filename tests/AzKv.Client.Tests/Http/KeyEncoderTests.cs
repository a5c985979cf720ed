using AzKv.Client.Http;

namespace AzKv.Client.Tests.Http;

public sealed class KeyEncoderTests
{
    [Fact]
    public void Encode_WhenKeyHasNonAsciiSpacePercentQuestionMarkAndHash_PercentEncodesEachUtf8Byte()
    {
        var encoded = KeyEncoder.Encode("ключ ü%?#");

        Assert.Equal("%D0%BA%D0%BB%D1%8E%D1%87%20%C3%BC%25%3F%23", encoded);
    }

    [Fact]
    public void Encode_WhenKeyLooksLikeAPath_KeepsTheSlashes()
    {
        Assert.Equal("app/feature/color", KeyEncoder.Encode("app/feature/color"));
        Assert.Equal("/leading//double/trailing/", KeyEncoder.Encode("/leading//double/trailing/"));
    }

    [Fact]
    public void Encode_WhenKeyHasOnlyUnreservedCharacters_KeepsThemAsIs()
    {
        const string Unreserved = "ABCXYZabcxyz0189-._~";

        Assert.Equal(Unreserved, KeyEncoder.Encode(Unreserved));
    }

    [Fact]
    public void Encode_WhenKeyHasReservedDelimiters_EncodesEveryOne()
    {
        var encoded = KeyEncoder.Encode("+&=;:@!$'()*,[]\\\"<>");

        Assert.Equal("%2B%26%3D%3B%3A%40%21%24%27%28%29%2A%2C%5B%5D%5C%22%3C%3E", encoded);
    }

    [Fact]
    public void Encode_WhenKeyHasAnAstralCharacter_EncodesItsFourUtf8Bytes()
    {
        Assert.Equal("flag%F0%9F%9A%A9", KeyEncoder.Encode("flag\U0001F6A9"));
    }

    [Theory]
    [InlineData("a/../b", "a/%2E%2E/b")]
    [InlineData("./x", "%2E/x")]
    [InlineData("a/..", "a/%2E%2E")]
    [InlineData(".", "%2E")]
    [InlineData("a/.hidden/..b/c.", "a/.hidden/..b/c.")]
    public void Encode_WhenASegmentIsDotOrDotDot_EncodesItsDotsSoNormalizationCannotRemoveIt(string key, string expected)
    {
        Assert.Equal(expected, KeyEncoder.Encode(key));
    }

    [Fact]
    public void Encode_WhenKeyIsEmpty_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => KeyEncoder.Encode(string.Empty));
    }

    [Fact]
    public void Encode_WhenKeyHasALoneSurrogate_ThrowsArgumentException()
    {
        var exception = Assert.Throws<ArgumentException>(() => KeyEncoder.Encode("bad\uD800key"));

        Assert.Contains("surrogate", exception.Message, StringComparison.Ordinal);
    }
}
