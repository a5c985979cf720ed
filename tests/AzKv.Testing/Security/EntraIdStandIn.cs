using System.Security.Cryptography;
using System.Text.Json;
using AzKv.Testing.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AzKv.Testing.Security;

/// <summary>
/// A loopback stand-in for an Entra ID tenant (what a node in EntraId mode reads through
/// <c>AzKv__Auth__Instance</c>): the tenant's OpenID metadata and its JWKS publishing one RSA key, plus
/// whatever endpoints a test maps (an authorize and a token endpoint for a sign-in). It signs tokens with
/// that key.
/// </summary>
public sealed class EntraIdStandIn : IAsyncDisposable
{
    /// <summary>The <c>kid</c> of the published key.</summary>
    public const string KeyId = "tenant-key";

    private readonly WebApplication _app;

    private EntraIdStandIn(string instance, string tenant, RSA key, WebApplication app)
    {
        Instance = instance;
        TenantId = tenant;
        Key = key;
        _app = app;
    }

    /// <summary>The authority's base address (<c>http://127.0.0.1:{port}/</c>), the node's <c>Auth:Instance</c>.</summary>
    public string Instance { get; }

    /// <summary>The tenant id (a fresh GUID).</summary>
    public string TenantId { get; }

    /// <summary>The tenant's signing key (its public half is in the JWKS).</summary>
    public RSA Key { get; }

    /// <summary>The issuer the metadata names (<c>{instance}{tenant}/v2.0</c>).</summary>
    public string Issuer => $"{Instance}{TenantId}/v2.0";

    /// <summary>The authorize endpoint the metadata names (a test maps it, when it needs it).</summary>
    public string AuthorizeEndpoint => $"{Instance}{TenantId}/oauth2/v2.0/authorize";

    /// <summary>The token endpoint the metadata names (a test maps it, when it needs it).</summary>
    public string TokenEndpoint => $"{Instance}{TenantId}/oauth2/v2.0/token";

    /// <summary>
    /// Starts the stand-in on a free loopback port with the metadata and JWKS endpoints, and the ones
    /// <paramref name="map"/> adds (paths under <c>/{tenant}/</c>).
    /// </summary>
    public static async Task<EntraIdStandIn> StartAsync(Action<WebApplication, EntraIdStandIn>? map = null)
    {
        var instance = $"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}/";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(instance);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var standIn = new EntraIdStandIn(instance, Guid.NewGuid().ToString(), RSA.Create(2048), app);
        try
        {
            standIn.MapMetadata();
            map?.Invoke(app, standIn);
            await app.StartAsync();
            return standIn;
        }
        catch
        {
            await standIn.DisposeAsync();
            throw;
        }
    }

    /// <summary>Signing credentials of <paramref name="key"/> (the tenant's key when null) under <see cref="KeyId"/>.</summary>
    public SigningCredentials Credentials(RSA? key = null) =>
        new(new RsaSecurityKey(key ?? Key) { KeyId = KeyId }, SecurityAlgorithms.RsaSha256);

    /// <summary>
    /// A JWT of <paramref name="descriptor"/> with no default times; its issuer and signing credentials
    /// are this tenant's unless the descriptor sets them.
    /// </summary>
    public string CreateToken(SecurityTokenDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Issuer ??= Issuer;
        descriptor.SigningCredentials ??= Credentials();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Key.Dispose();
    }

    private void MapMetadata()
    {
        var key = Key.ExportParameters(includePrivateParameters: false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", kid = KeyId, n = Base64UrlEncoder.Encode(key.Modulus), e = Base64UrlEncoder.Encode(key.Exponent) } },
        });
        _app.MapGet($"/{TenantId}/v2.0/.well-known/openid-configuration", () => Results.Text(
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["issuer"] = Issuer,
                ["jwks_uri"] = $"{Instance}{TenantId}/discovery/v2.0/keys",
                ["authorization_endpoint"] = AuthorizeEndpoint,
                ["token_endpoint"] = TokenEndpoint,
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            }),
            "application/json"));
        _app.MapGet($"/{TenantId}/discovery/v2.0/keys", () => Results.Text(jwks, "application/json"));
    }
}
