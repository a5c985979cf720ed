using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AzKv.Console.Tests;

/// <summary>The REST API of the node under test, as another client (the one that races the browser).</summary>
public sealed class NodeApi : IDisposable
{
    private readonly HttpClient _http;

    public NodeApi(Uri node)
    {
        _http = new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task<string> PutAsync(string key, string value, string contentType = "text/plain; charset=utf-8")
    {
        using var content = new StringContent(value, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await _http.PutAsync(KeyPath(key), content);
        Assert.True(response.IsSuccessStatusCode, $"PUT {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.Headers.ETag!.Tag;
    }

    /// <summary>The key's value and content type, or null when it does not exist.</summary>
    public async Task<(string Value, string ContentType)?> GetAsync(string key)
    {
        using var response = await _http.GetAsync(KeyPath(key));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType!.ToString());
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _http.SendAsync(request);

    public void Dispose() => _http.Dispose();

    private static string KeyPath(string key) => "/v1/kv/" + string.Join('/', key.Split('/').Select(Uri.EscapeDataString));
}
