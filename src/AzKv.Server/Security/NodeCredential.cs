using Azure.Core;
using Azure.Identity;
using AzKv.Server.Hosting;

namespace AzKv.Server.Security;

/// <summary>
/// The token a node sends on its own node-to-node calls (the internal endpoints): in Local mode one it
/// signs itself with the local issuer's key (role <c>AzKv.Node</c>); in EntraId mode its managed
/// identity's token for the AzKv audience (the identity holds the <c>AzKv.Node</c> app role); none
/// when auth is off. Requests forwarded for a caller carry the caller's token instead.
/// </summary>
internal sealed class NodeCredential
{
    private static readonly TimeSpan LocalLifetime = TimeSpan.FromHours(1);

    private readonly AuthSettings _settings;
    private readonly byte[]? _localKey;
    private readonly string _nodeId;
    private readonly TimeProvider _time;
    private readonly TokenCredential? _credential;
    private (string Token, DateTimeOffset RefreshAt)? _cached;

    public NodeCredential(AuthSettings settings, string? managedIdentityClientId, byte[]? localKey, string nodeId, TimeProvider time)
    {
        _settings = settings;
        _localKey = localKey;
        _nodeId = nodeId;
        _time = time;
        if (settings.Mode == AuthSettings.EntraId)
        {
            _credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = string.IsNullOrWhiteSpace(managedIdentityClientId) ? null : managedIdentityClientId,
            });
        }
    }

    /// <summary>The bearer token for a node-to-node call, or null when auth is off.</summary>
    public async ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (!_settings.Enabled)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (_cached is { } cached && now < cached.RefreshAt)
        {
            return cached.Token;
        }

        string token;
        DateTimeOffset refreshAt;
        if (_localKey is not null)
        {
            token = LocalIssuer.CreateToken(_localKey, "node:" + _nodeId, AuthClaims.NodeRole, [], LocalLifetime, _time);
            refreshAt = now + (LocalLifetime / 2);
        }
        else
        {
            var scope = _settings.Audience!.TrimEnd('/') + "/.default";
            var access = await _credential!.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
            token = access.Token;
            refreshAt = access.RefreshOn ?? access.ExpiresOn - TimeSpan.FromMinutes(5);
        }

        _cached = (token, refreshAt);
        return token;
    }
}
