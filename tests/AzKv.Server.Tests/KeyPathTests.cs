using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

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

    [Fact]
    public void RawTarget_WhenTheServerSetsIt_ReturnsItAsSent()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/v1/kv/a/b";
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "/v1/kv/a%2Fb?x=1";

        Assert.Equal("/v1/kv/a%2Fb?x=1", KeyPath.RawTarget(context));
    }

    [Fact]
    public void RawTarget_WhenTheHostSetsNone_RebuildsItFromThePathAndQuery()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/v1/kv/k\u00e9y x";
        context.Request.QueryString = new QueryString("?prefix=a");

        Assert.Equal("/v1/kv/k%C3%A9y%20x?prefix=a", KeyPath.RawTarget(context));
        Assert.Equal("kéy x", KeyPath.TryGetKey(context, out var error));
        Assert.Null(error);
    }
}
