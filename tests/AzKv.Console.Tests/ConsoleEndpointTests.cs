using System.Net;
using System.Net.Http.Headers;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;

namespace AzKv.Console.Tests;

/// <summary>GET /console/...: the embedded files, their content types, ETags and the security headers (no browser).</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConsoleEndpointTests : IClassFixture<ServerFixture>
{
    private const string Csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _server;

    public ConsoleEndpointTests(AzuriteFixture azurite, ServerFixture server)
    {
        _azurite = azurite;
        _server = server;
    }

    [Theory]
    [InlineData("/console")]
    [InlineData("/console/")]
    [InlineData("/console/flags")]
    [InlineData("/console/keys/deep/route")]
    public async Task Get_WhenAConsoleRouteIsAsked_ServesTheSinglePageWithAStrictContentSecurityPolicy(string path)
    {
        using var http = await ClientAsync();

        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(Csp, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"/console/assets/app.js\"></script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/console/assets/app.js", "text/javascript; charset=utf-8")]
    [InlineData("/console/assets/keys.js", "text/javascript; charset=utf-8")]
    [InlineData("/console/assets/console.css", "text/css; charset=utf-8")]
    public async Task Get_WhenAnAssetIsRevalidatedWithItsETag_Answers304WithoutABody(string path, string contentType)
    {
        using var http = await ClientAsync();

        using var first = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(contentType, first.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_WhenAnAssetDoesNotExist_Answers404Problem()
    {
        using var http = await ClientAsync();

        using var response = await http.GetAsync("/console/assets/missing.js");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("https://azkv.dev/problems/not-found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scripts_WhenServed_HaveNoInlineHandlersOrExternalOrigins()
    {
        using var http = await ClientAsync();
        string[] assets = ["app.js", "api.js", "dom.js", "live.js", "keys.js", "flags.js", "conflicts.js", "cluster.js"];

        foreach (var asset in assets)
        {
            var script = await http.GetStringAsync("/console/assets/" + asset);
            Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
            Assert.DoesNotContain("eval(", script, StringComparison.Ordinal);
            Assert.DoesNotContain("new EventSource", script, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"https?://", script);
        }
    }

    private async Task<HttpClient> ClientAsync()
    {
        var node = await _server.GetAsync(_azurite);
        var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));
        return http;
    }
}
