using System.Security.Claims;
using AzKv.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace AzKv.Server.Security;

/// <summary>
/// Who a request comes from (<see cref="AccessPrincipal"/>, from its bearer token) and whether that
/// principal may make one more request now (a token bucket per principal, <see cref="AuthSettings.RequestsPerSecond"/>).
/// </summary>
internal sealed class AccessControl
{
    private const string ItemKey = "azkv.principal";

    private readonly AuthSettings _settings;
    private readonly RoleAssignmentStore? _assignments;
    private readonly PrincipalRateLimiter? _limiter;

    /// <param name="settings">The auth settings (mode, rate and burst).</param>
    /// <param name="assignments">Stored role assignments, or null.</param>
    /// <param name="time">The clock the rate limit counts on (the system clock when null).</param>
    public AccessControl(AuthSettings settings, RoleAssignmentStore? assignments = null, TimeProvider? time = null)
    {
        _settings = settings;
        _assignments = assignments;
        if (settings.Enabled && settings.RequestsPerSecond > 0)
        {
            _limiter = new PrincipalRateLimiter(time ?? TimeProvider.System, settings.RequestsPerSecond, settings.Burst);
        }
    }

    /// <summary>True unless <c>AzKv__Auth__Mode</c> is <c>None</c>.</summary>
    public bool Enabled => _settings.Enabled;

    public AuthSettings Settings => _settings;

    /// <summary>
    /// The caller: <see cref="AccessPrincipal.Open"/> when auth is off; null with the reason when a
    /// token is missing (reason null) or invalid. The result is kept on the request.
    /// </summary>
    public async Task<(AccessPrincipal? Principal, string? Failure)> AuthenticateAsync(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var known) && known is AccessPrincipal cached)
        {
            return (cached, null);
        }

        if (!_settings.Enabled)
        {
            return (AccessPrincipal.Open, null);
        }

        var result = await AuthSetup.AuthenticateAsync(context).ConfigureAwait(false);
        if (!result.Succeeded || result.Principal is null)
        {
            // The failure's message comes from IdentityModel, which hides token contents (PII) by default.
            return (null, result.None ? null : "invalid_token");
        }

        var principal = FromClaims(result.Principal, local: _settings.Mode == AuthSettings.Local);
        if (_assignments is not null && !principal.IsNode)
        {
            // Stored grants for the object id, the subject or any group of the token.
            var ids = new[] { "oid", "sub", "groups" }.SelectMany(type => result.Principal.FindAll(type).Select(c => c.Value)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var stored = await _assignments.GrantsForAsync(ids, context.RequestAborted).ConfigureAwait(false);
            if (stored.Count > 0)
            {
                principal = principal with { Grants = [.. principal.Grants, .. stored] };
            }
        }

        context.Items[ItemKey] = principal;
        return (principal, null);
    }

    /// <summary>The caller of a request the access check already authenticated (null when none, or auth is off).</summary>
    public static AccessPrincipal? PrincipalOf(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var known) ? known as AccessPrincipal : null;

    /// <summary>
    /// The grants a token carries: each app role (<c>roles</c>) is one grant, unscoped for Entra ID;
    /// a local token's grants are limited to its <c>azkv_prefixes</c> when it has any.
    /// </summary>
    public static AccessPrincipal FromClaims(ClaimsPrincipal claims, bool local)
    {
        var subject = claims.FindFirst("oid")?.Value ?? claims.FindFirst("sub")?.Value;
        var prefixes = local ? claims.FindAll(LocalIssuer.PrefixesClaim).Select(c => c.Value).ToArray() : [];
        var grants = new List<AccessGrant>();
        var node = false;
        foreach (var value in claims.FindAll(AuthClaims.Roles).Select(c => c.Value))
        {
            if (value == AuthClaims.NodeRole)
            {
                node = true;
            }
            else if (AuthClaims.FromRoleValue(value) is { } role)
            {
                grants.Add(new AccessGrant(role, prefixes));
            }
        }

        return new AccessPrincipal(true, subject, grants, node) { ClientId = claims.FindFirst("azp")?.Value ?? claims.FindFirst("appid")?.Value };
    }

    /// <summary>
    /// Takes one request from the principal's bucket; false with the seconds to wait when it is empty.
    /// Node identities and auth-off callers are not limited.
    /// </summary>
    public bool TryAcquire(AccessPrincipal principal, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (_limiter is null || principal.IsNode || !principal.Authenticated)
        {
            return true;
        }

        if (_limiter.TryAcquire(principal.Subject ?? string.Empty, out var wait))
        {
            return true;
        }

        retryAfterSeconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return false;
    }
}
