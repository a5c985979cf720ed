using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>
/// The set-up of API tests over real HTTP: one node on Azurite per test, in a fresh container named
/// <c>{containerPrefix}{16 hex}</c>, and the request and response helpers they share.
/// </summary>
public abstract class ServerApiTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly string _containerPrefix;
    private ServerProcess? _server;

    protected ServerApiTests(AzuriteFixture azurite, string containerPrefix)
    {
        _azurite = azurite;
        _containerPrefix = containerPrefix;
    }

    /// <summary>A client of the node.</summary>
    protected HttpClient Http => _server!.Http;

    public async Task InitializeAsync() => _server = await ServerProcess.StartAsync(_azurite, _containerPrefix + Guid.NewGuid().ToString("N")[..16]);

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    /// <summary>A UTF-8 text body of <paramref name="contentType"/>.</summary>
    protected static StringContent Text(string value, string contentType = "text/plain") => new(value, Encoding.UTF8, new MediaTypeHeaderValue(contentType));

    /// <summary>The response body as JSON.</summary>
    protected static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Asserts an RFC 9457 problem of <paramref name="status"/> whose type ends in <paramref name="kind"/>, with a detail.</summary>
    protected static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string kind)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response);
        Assert.Equal("https://azkv.dev/problems/" + kind, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }
}
