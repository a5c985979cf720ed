using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
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
    private static readonly string Tenant = Guid.NewGuid().ToString();
    private static readonly string AllowedClient = Guid.NewGuid().ToString();

    private readonly AzuriteFixture _azurite;
    private readonly RSA _tenantKey = RSA.Create(2048);
    private WebApplication? _metadata;
    private ServerProcess? _server;
    private string _instance = string.Empty;

    public EntraIdAuthTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    private string Issuer => $"{_instance}{Tenant}/v2.0";

    public async Task InitializeAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _instance = $"http://127.0.0.1:{port}/";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(_instance);
        builder.Logging.ClearProviders();
        _metadata = builder.Build();
        var parameters = _tenantKey.ExportParameters(includePrivateParameters: false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", kid = "tenant-key", n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent) } },
        });
        _metadata.MapGet($"/{Tenant}/v2.0/.well-known/openid-configuration", () => Results.Text(
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["issuer"] = Issuer,
                ["jwks_uri"] = $"{_instance}{Tenant}/discovery/v2.0/keys",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            }),
            "application/json"));
        _metadata.MapGet($"/{Tenant}/discovery/v2.0/keys", () => Results.Text(jwks, "application/json"));
        await _metadata.StartAsync();

        _server = await ServerProcess.StartAsync(
            _azurite,
            "entra" + Guid.NewGuid().ToString("N")[..16],
            4,
            "--AzKv:Auth:Mode=EntraId",
            "--AzKv:Auth:TenantId=" + Tenant,
            "--AzKv:Auth:Audience=" + Audience,
            "--AzKv:Auth:Instance=" + _instance,
            "--AzKv:Auth:AllowedClientIds=" + AllowedClient);
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        await _metadata!.DisposeAsync();
        _tenantKey.Dispose();
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
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
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
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _tenantKey) { KeyId = "tenant-key" }, SecurityAlgorithms.RsaSha256),
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
            ["wrong issuer"] = Token(issuer: $"{_instance}{Guid.NewGuid()}/v2.0"),
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
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            NotBefore = now.AddMinutes(10),
            Expires = now.AddHours(1),
            Claims = new Dictionary<string, object> { ["oid"] = "x", ["azp"] = AllowedClient, ["roles"] = new[] { AuthClaims.ReaderRole } },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_tenantKey) { KeyId = "tenant-key" }, SecurityAlgorithms.RsaSha256),
        });

        using var response = await SendAsync(HttpMethod.Get, "/v1/kv/any/key", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
