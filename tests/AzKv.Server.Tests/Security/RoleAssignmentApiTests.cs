using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests.Security;

/// <summary>Prefix-scoped grants stored in the cluster: only admins change them, and they add to a token's own grants.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RoleAssignmentApiTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-roles-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;
    private byte[] _key = [];

    public RoleAssignmentApiTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_directory, "signing.key");
        _key = LocalIssuer.CreateOrLoadKey(keyFile);
        _server = await ServerProcess.StartAsync(_azurite, "roles" + Guid.NewGuid().ToString("N")[..16], 4, "--AzKv:Auth:Mode=Local", "--AzKv:Auth:SigningKeyFile=" + keyFile);
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string Token(string subject, string role) => LocalIssuer.CreateToken(_key, subject, role, [], TimeSpan.FromMinutes(10), TimeProvider.System);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _server!.Http.SendAsync(request);
    }

    [Fact]
    public async Task AssignRole_WhenAdminGrantsAScopedWriter_ThePrincipalMayWriteOnlyUnderThePrefix()
    {
        var admin = Token("admin-1", AuthClaims.AdminRole);
        var alice = Token("alice", AuthClaims.ReaderRole);

        using var before = await SendAsync(HttpMethod.Put, "/v1/kv/team/a", alice, "\"v\"");
        using var assigned = await SendAsync(HttpMethod.Put, "/v1/auth/roles/alice/writer", admin, "{\"prefixes\": [\"team/\"]}");
        using var inside = await SendAsync(HttpMethod.Put, "/v1/kv/team/a", alice, "\"v\"");
        using var outside = await SendAsync(HttpMethod.Put, "/v1/kv/other/a", alice, "\"v\"");
        using var listed = await SendAsync(HttpMethod.Get, "/v1/auth/roles", admin);
        using var me = await SendAsync(HttpMethod.Get, "/v1/auth/me", alice);

        Assert.Equal(HttpStatusCode.Forbidden, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, assigned.StatusCode);
        Assert.Equal(HttpStatusCode.Created, inside.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        var assignment = Assert.Single(JsonDocument.Parse(await listed.Content.ReadAsStringAsync()).RootElement.GetProperty("assignments").EnumerateArray());
        Assert.Equal("alice", assignment.GetProperty("principal").GetString());
        Assert.Equal("team/", assignment.GetProperty("prefixes")[0].GetString());
        var roles = JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetProperty("role").GetString()).ToList();
        Assert.Equal(["reader", "writer"], roles);
    }

    [Fact]
    public async Task RemoveRole_WhenTheGrantExists_Returns204ThenItIsGone()
    {
        var admin = Token("admin-2", AuthClaims.AdminRole);
        using (await SendAsync(HttpMethod.Put, "/v1/auth/roles/bob/reader", admin)) { }

        using var removed = await SendAsync(HttpMethod.Delete, "/v1/auth/roles/bob/reader", admin);
        using var again = await SendAsync(HttpMethod.Delete, "/v1/auth/roles/bob/reader", admin);

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/v1/auth/roles")]
    [InlineData("PUT", "/v1/auth/roles/mallory/admin")]
    [InlineData("DELETE", "/v1/auth/roles/mallory/admin")]
    public async Task RoleEndpoints_WhenCallerIsAWriter_Return403(string method, string path)
    {
        using var response = await SendAsync(new HttpMethod(method), path, Token("writer-1", AuthClaims.WriterRole));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AssignRole_WhenRoleIsUnknown_Returns400()
    {
        using var response = await SendAsync(HttpMethod.Put, "/v1/auth/roles/x/owner", Token("admin-3", AuthClaims.AdminRole));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
