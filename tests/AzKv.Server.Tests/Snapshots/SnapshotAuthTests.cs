using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests.Snapshots;

/// <summary>Who may create, read, list and delete snapshots (docs/security.md): roles over every filter prefix.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SnapshotAuthTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-snapauth-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;
    private byte[] _key = [];

    public SnapshotAuthTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_directory, "signing.key");
        _key = LocalIssuer.CreateOrLoadKey(keyFile);
        _server = await ServerProcess.StartAsync(
            _azurite, "snapauth" + Guid.NewGuid().ToString("N")[..16], 4, "--AzKv:Auth:Mode=Local", "--AzKv:Auth:SigningKeyFile=" + keyFile);
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string Token(string subject, string role, params string[] prefixes) =>
        LocalIssuer.CreateToken(_key, subject, role, prefixes, TimeSpan.FromMinutes(10), TimeProvider.System);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, contentType) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _server!.Http.SendAsync(request);
    }

    private static string Body(string name, string prefix) => $"{{\"name\": \"{name}\", \"filters\": [{{\"prefix\": \"{prefix}\"}}]}}";

    [Fact]
    public async Task Snapshots_WhenRolesDoNotCoverEveryFilterPrefix_Return403AndListOnlyReadableOnes()
    {
        var admin = Token("alice", AuthClaims.AdminRole);
        var appWriter = Token("wendy", AuthClaims.WriterRole, "app/");
        var appReader = Token("rita", AuthClaims.ReaderRole, "app/");
        var otherReader = Token("oscar", AuthClaims.ReaderRole, "other/");
        (await SendAsync(HttpMethod.Put, "/v1/kv/app/a", admin, "1", "text/plain")).Dispose();
        (await SendAsync(HttpMethod.Put, "/v1/kv/other/b", admin, "2", "text/plain")).Dispose();

        using var byReader = await SendAsync(HttpMethod.Post, "/v1/snapshots", appReader, Body("r", "app/"));
        using var outsideGrant = await SendAsync(HttpMethod.Post, "/v1/snapshots", appWriter, Body("wide", string.Empty));
        using var noToken = await SendAsync(HttpMethod.Post, "/v1/snapshots", null, Body("anon", "app/"));
        using var byWriter = await SendAsync(HttpMethod.Post, "/v1/snapshots", appWriter, Body("app-snap", "app/"));
        using var byAdmin = await SendAsync(HttpMethod.Post, "/v1/snapshots", admin, Body("other-snap", "other/"));

        Assert.Equal(HttpStatusCode.Forbidden, byReader.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, outsideGrant.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byWriter.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);
        Assert.Equal("wendy", JsonDocument.Parse(await byWriter.Content.ReadAsStringAsync()).RootElement.GetProperty("createdBy").GetString());

        using var readerGet = await SendAsync(HttpMethod.Get, "/v1/snapshots/app-snap", appReader);
        using var readerItems = await SendAsync(HttpMethod.Get, "/v1/snapshots/app-snap/kv?values=true", appReader);
        using var otherGet = await SendAsync(HttpMethod.Get, "/v1/snapshots/app-snap", otherReader);
        using var otherItems = await SendAsync(HttpMethod.Get, "/v1/snapshots/app-snap/kv", otherReader);
        using var readerDelete = await SendAsync(HttpMethod.Delete, "/v1/snapshots/app-snap", appReader);
        using var writerDeleteOther = await SendAsync(HttpMethod.Delete, "/v1/snapshots/other-snap", appWriter);
        using var list = await SendAsync(HttpMethod.Get, "/v1/snapshots", otherReader);

        Assert.Equal(HttpStatusCode.OK, readerGet.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readerItems.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherGet.StatusCode);
        Assert.Equal("https://azkv.dev/problems/forbidden", JsonDocument.Parse(await otherGet.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, otherItems.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, readerDelete.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, writerDeleteOther.StatusCode);
        Assert.Equal(
            ["other-snap"],
            JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));

        using var writerDelete = await SendAsync(HttpMethod.Delete, "/v1/snapshots/app-snap", appWriter);
        Assert.Equal(HttpStatusCode.NoContent, writerDelete.StatusCode);
    }
}
