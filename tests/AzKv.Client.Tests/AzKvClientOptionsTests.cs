namespace AzKv.Client.Tests;

public sealed class AzKvClientOptionsTests
{
    [Fact]
    public void Constructor_WhenThereIsNoEndpoint_ThrowsNamingTheOption()
    {
        var exception = Assert.Throws<ArgumentException>(() => new AzKvClient(new AzKvClientOptions()));

        Assert.Contains("Endpoints", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("/relative")]
    public void Constructor_WhenAnEndpointIsNotAnAbsoluteHttpUrl_ThrowsNamingIt(string endpoint)
    {
        var uri = new Uri(endpoint, UriKind.RelativeOrAbsolute);

        var exception = Assert.Throws<ArgumentException>(() => new AzKvClient(new AzKvClientOptions { Endpoints = [uri] }));

        Assert.Contains(endpoint, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WhenRetriesAreNegative_ThrowsNamingTheOption()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new AzKvClient(new AzKvClientOptions
        {
            Endpoints = [new Uri("http://127.0.0.1:8080")],
            MaxRetries = -1,
        }));

        Assert.Equal("MaxRetries", exception.ParamName);
    }

    [Fact]
    public void Endpoints_WhenConstructed_KeepsTheOrderOfPreference()
    {
        Uri[] endpoints = [new("http://127.0.0.1:8081"), new("http://127.0.0.1:8080")];

        using var client = new AzKvClient(new AzKvClientOptions { Endpoints = endpoints });

        Assert.Equal(endpoints, client.Endpoints);
    }

    [Fact]
    public void IfMatch_WhenTheETagHasNoQuotes_QuotesIt()
    {
        Assert.Equal("\"abc\"", KvCondition.IfMatch("abc").ETag);
        Assert.Equal("\"abc\"", KvCondition.IfMatch("\"abc\"").ETag);
        Assert.Equal(KvConditionKind.IfMatch, KvCondition.IfMatch("abc").Kind);
        Assert.Equal(KvConditionKind.None, default(KvCondition).Kind);
        Assert.Equal(KvConditionKind.IfNoneMatch, KvCondition.IfNoneMatch.Kind);
    }
}
