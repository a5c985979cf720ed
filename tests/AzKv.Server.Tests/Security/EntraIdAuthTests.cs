using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;
using AzKv.Testing.Security;
using Microsoft.IdentityModel.Tokens;

namespace AzKv.Server.Tests.Security;

/// <summary>
/// A node in EntraId mode against a loopback stand-in for the tenant's OpenID metadata
/// (<c>AzKv__Auth__Instance</c>): signature from the published keys, issuer, audience, lifetime and
/// allowed clients; the local issuer is refused in this mode.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EntraIdAuthTests : IAsyncLifetime
{
    private const string Audience = "api://azkv-test";
    private static readonly string AllowedClient = Guid.NewGuid().ToString();

    private readonly AzuriteFixture _azurite;
    private EntraIdStandIn? _tenant;
    private ServerProcess? _server;

    public EntraIdAuthTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    private EntraIdStandIn Tenant => _tenant!;

    public async Task InitializeAsync()
    {
        _tenant = await EntraIdStandIn.StartAsync();
        _server = await ServerProcess.StartAsync(
            _azurite,
            "entra" + Guid.NewGuid().ToString("N")[..16],
            4,
            "--AzKv:Auth:Mode=EntraId",
            "--AzKv:Auth:TenantId=" + Tenant.TenantId,
            "--AzKv:Auth:Audience=" + Audience,
            "--AzKv:Auth:Instance=" + Tenant.Instance,
            "--AzKv:Auth:AllowedClientIds=" + AllowedClient);
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        await _tenant!.DisposeAsync();
    }

    private string Token(
        string role = AuthClaims.ReaderRole,
        string? issuer = null,
        string audience = Audience,
        string? client = null,
        RSA? key = null,
        DateTime? expires = null)
    {
        var now = DateTime.UtcNow;
        return Tenant.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = (expires ?? now.AddHours(1)).AddHours(-1),
            NotBefore = (expires ?? now.AddHours(1)).AddHours(-1),
            Expires = expires ?? now.AddHours(1),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "pairwise-subject",
                ["oid"] = "00000000-0000-0000-0000-0000000000aa",
                ["azp"] = client ?? AllowedClient,
                ["roles"] = new[] { role },
            },
            SigningCredentials = Tenant.Credentials(key),
        });
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Put ? new StringContent("v") : null };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _server!.Http.SendAsync(request);
    }

    [Fact]
    public async Task Get_WhenEntraTokenIsValid_AuthorizesByItsAppRoleUnscoped()
    {
        using var get = await SendAsync(HttpMethod.Get, "/v1/kv/any/key", Token());
        using var put = await SendAsync(HttpMethod.Put, "/v1/kv/any/key", Token());
        using var me = await SendAsync(HttpMethod.Get, "/v1/auth/me", Token());

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("00000000-0000-0000-0000-0000000000aa", body.GetProperty("subject").GetString());
        var role = Assert.Single(body.GetProperty("roles").EnumerateArray());
        Assert.Equal("reader", role.GetProperty("role").GetString());
        Assert.Empty(role.GetProperty("prefixes").EnumerateArray());
    }

    [Fact]
    public async Task Get_WhenEntraTokenIsWrong_Returns401()
    {
        using var otherKey = RSA.Create(2048);
        var localKey = new byte[32];
        RandomNumberGenerator.Fill(localKey);
        var cases = new Dictionary<string, string>
        {
            ["wrong audience"] = Token(audience: "api://someone-else"),
            ["wrong issuer"] = Token(issuer: $"{Tenant.Instance}{Guid.NewGuid()}/v2.0"),
            ["forged"] = Token(key: otherKey),
            ["expired"] = Token(expires: DateTime.UtcNow.AddMinutes(-5)),
            ["client not allowed"] = Token(client: Guid.NewGuid().ToString()),
            ["local issuer"] = LocalIssuer.CreateToken(localKey, "x", AuthClaims.AdminRole, [], TimeSpan.FromMinutes(5), TimeProvider.System),
        };

        foreach (var (name, token) in cases)
        {
            using var response = await SendAsync(HttpMethod.Get, "/v1/kv/any/key", token);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Get_WhenEntraTokenIsNotYetValid_Returns401()
    {
        var now = DateTime.UtcNow;
        var token = Tenant.CreateToken(new SecurityTokenDescriptor
        {
            Audience = Audience,
            NotBefore = now.AddMinutes(10),
            Expires = now.AddHours(1),
            Claims = new Dictionary<string, object> { ["oid"] = "x", ["azp"] = AllowedClient, ["roles"] = new[] { AuthClaims.ReaderRole } },
        });

        using var response = await SendAsync(HttpMethod.Get, "/v1/kv/any/key", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
