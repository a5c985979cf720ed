using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AzKv.Extensions.Configuration.Tests.KeyVault;

/// <summary>
/// A stand-in for the Key Vault secrets REST API (no Key Vault can be reached here), served over
/// TLS on loopback so the real <see cref="SecretClient"/> talks to it unchanged:
/// <list type="bullet">
/// <item><c>GET /secrets/{name}[/{version}]?api-version=...</c>: 200 with the secret bundle
/// (<c>value</c>, <c>id</c>, <c>attributes</c>), 404 <c>SecretNotFound</c>, 403 <c>Forbidden</c> for
/// names set with <see cref="Forbid"/>;</item>
/// <item>the challenge flow the SDK's ChallengeBasedAuthenticationPolicy expects: a request without
/// a bearer token (the SDK's first, body-less probe) or with an unknown token gets 401 and
/// <c>WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"</c>;
/// the SDK then asks the credential for <c>https://vault.azure.net/.default</c> in that tenant and
/// sends the request again with the token.</item>
/// </list>
/// The SDK refuses bearer tokens over http and checks that the challenge's resource
/// (<c>vault.azure.net</c>) is a parent domain of the vault's host. So the vault keeps a real-looking
/// name, <see cref="VaultHost"/>, and <see cref="CreateClientOptions"/> gives a test-only transport
/// whose connections to that name go to the stand-in's loopback port and which trusts only the
/// stand-in's self-signed certificate. Nothing in the SDK is switched off.
/// </summary>
internal sealed class KeyVaultStandIn : IAsyncDisposable
{
    public const string Tenant = "00000000-0000-4000-8000-000000000001";
    public const string Resource = "https://vault.azure.net";

    private readonly ConcurrentDictionary<string, List<(string Version, string Value)>> _secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _forbidden = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private KeyVaultStandIn(WebApplication app, X509Certificate2 certificate, string vaultHost)
    {
        _app = app;
        _certificate = certificate;
        VaultHost = vaultHost;
        VaultUri = new Uri($"https://{vaultHost}/");
    }

    /// <summary>
    /// The vault's host name, new for each stand-in: the SDK caches challenges per host for the
    /// whole process, so a fresh name makes every stand-in see the SDK's first, anonymous probe.
    /// </summary>
    public string VaultHost { get; }

    /// <summary>The token the stand-in accepts.</summary>
    public string AcceptedToken { get; } = "kv-token-" + Guid.NewGuid().ToString("N");

    /// <summary>The vault's URI as references name it.</summary>
    public Uri VaultUri { get; }

    /// <summary>The loopback port the stand-in listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Each request as "<c>GET /secrets/x auth|anonymous → status</c>".</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public static async Task<KeyVaultStandIn> StartAsync()
    {
        var host = "azkvtest" + Guid.NewGuid().ToString("N")[..8] + ".vault.azure.net";
        var certificate = CreateCertificate(host);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var standIn = new KeyVaultStandIn(app, certificate, host);
        app.MapGet("/secrets/{name}/{version?}", standIn.GetSecret);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        standIn.Port = new Uri(address).Port;
        return standIn;
    }

    /// <summary>Adds a new version of <paramref name="name"/>; returns its version id.</summary>
    public string SetSecret(string name, string value)
    {
        var version = Guid.NewGuid().ToString("N");
        var versions = _secrets.GetOrAdd(name, _ => []);
        lock (versions)
        {
            versions.Add((version, value));
        }

        return version;
    }

    /// <summary>From now on, reading <paramref name="name"/> is forbidden (403).</summary>
    public void Forbid(string name) => _forbidden[name] = true;

    /// <summary>The secret's URI as a reference holds it.</summary>
    public Uri SecretUri(string name, string? version = null) =>
        new(VaultUri, "secrets/" + name + (version is null ? string.Empty : "/" + version));

    /// <summary>
    /// Client options for the real SecretClient: a transport that connects <see cref="VaultHost"/>
    /// to the stand-in and trusts its certificate (and nothing else), and no retries.
    /// </summary>
    public SecretClientOptions CreateClientOptions()
    {
        var vaultHost = VaultHost;
        var thumbprint = _certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var port = Port;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                if (!string.Equals(context.DnsEndPoint.Host, vaultHost, StringComparison.OrdinalIgnoreCase))
                {
                    throw new HttpRequestException($"The Key Vault stand-in only serves {vaultHost}, not {context.DnsEndPoint.Host}.");
                }

                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), thumbprint, StringComparison.OrdinalIgnoreCase),
            },
        };
        var options = new SecretClientOptions { Transport = new HttpClientTransport(handler) };
        options.Retry.MaxRetries = 0;
        return options;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
    }

    private IResult GetSecret(HttpContext context, string name, string? version)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        var result = Answer(context, authorization, name, version, out var status);
        _requests.Enqueue($"GET {context.Request.Path} {(authorization.Length == 0 ? "anonymous" : "auth")} → {status}");
        return result;
    }

    private IResult Answer(HttpContext context, string authorization, string name, string? version, out int status)
    {
        if (string.IsNullOrEmpty(context.Request.Query["api-version"]))
        {
            status = 400;
            return Error(status, "BadParameter", "The request is missing api-version.");
        }

        if (!string.Equals(authorization, "Bearer " + AcceptedToken, StringComparison.Ordinal))
        {
            context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/{Tenant}\", resource=\"{Resource}\"";
            status = 401;
            return Error(status, "Unauthorized", authorization.Length == 0 ? "AKV10000: Request is missing a Bearer or PoP token." : "AKV10032: Invalid issuer.");
        }

        if (_forbidden.ContainsKey(name))
        {
            status = 403;
            return Error(status, "Forbidden", $"The user does not have secrets get permission on key vault '{VaultHost}'.");
        }

        (string Version, string Value)? found = null;
        if (_secrets.TryGetValue(name, out var versions))
        {
            lock (versions)
            {
                found = version is null ? versions[^1] : versions.Where(v => v.Version == version).Select(v => ((string, string)?)v).FirstOrDefault();
            }
        }

        if (found is not { } secret)
        {
            status = 404;
            return Error(status, "SecretNotFound", $"A secret with (name/id) {name}{(version is null ? string.Empty : "/" + version)} was not found in this key vault.");
        }

        status = 200;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Results.Json(new Dictionary<string, object>
        {
            ["value"] = secret.Value,
            ["id"] = SecretUri(name, secret.Version).ToString(),
            ["attributes"] = new Dictionary<string, object> { ["enabled"] = true, ["created"] = now, ["updated"] = now, ["recoveryLevel"] = "Recoverable+Purgeable" },
            ["tags"] = new Dictionary<string, string>(),
        });
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = new { code, message } }, statusCode: status);

    private static X509Certificate2 CreateCertificate(string vaultHost)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={vaultHost}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(vaultHost);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        // Through PFX so Kestrel gets a certificate whose private key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }
}

/// <summary>A credential that hands out one token and records what it was asked for.</summary>
internal sealed class RecordingCredential(string token) : TokenCredential
{
    private readonly ConcurrentQueue<TokenRequestContext> _requests = new();

    public IReadOnlyList<TokenRequestContext> Requests => [.. _requests];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        _requests.Enqueue(requestContext);
        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
