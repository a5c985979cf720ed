using AzKv.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace AzKv.Server.Security;

/// <summary>Registers bearer authentication for <see cref="AuthSettings.Mode"/> and the services of <see cref="AccessControl"/>.</summary>
internal static class AuthSetup
{
    public const string Scheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>Adds authentication (when on), the access control and the node's own credential for node-to-node calls.</summary>
    /// <exception cref="InvalidDataException">The local signing key file does not hold a key.</exception>
    public static void Add(IServiceCollection services, ServerOptions options, string nodeId)
    {
        var auth = options.Auth;
        byte[]? localKey = auth.Mode == AuthSettings.Local ? LocalIssuer.LoadKey(auth.SigningKeyFile!) : null;
        services.AddSingleton(provider => new RoleAssignmentStore(provider.GetRequiredService<AzKv.Storage.IBlobStore>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new AccessControl(auth, auth.Enabled ? provider.GetRequiredService<RoleAssignmentStore>() : null, provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new Audit.AuditLog(
            provider.GetRequiredService<AzKv.Storage.IBlobStore>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Audit.AuditLog>>(),
            nodeId,
            TimeSpan.FromHours(auth.AuditRetentionHours)));
        services.AddSingleton(provider => new NodeCredential(auth, options.Storage.ManagedIdentityClientId, localKey, nodeId, provider.GetRequiredService<TimeProvider>()));
        if (!auth.Enabled)
        {
            return;
        }

        services.AddAuthentication(Scheme).AddJwtBearer(Scheme, jwt =>
        {
            // Claim names as the token spells them (sub, roles, oid, azp), not the WS-* URIs.
            jwt.MapInboundClaims = false;
            jwt.IncludeErrorDetails = true;
            if (localKey is not null)
            {
                jwt.TokenValidationParameters = LocalIssuer.ValidationParameters(localKey);
                return;
            }

            var instance = auth.Instance.EndsWith('/') ? auth.Instance : auth.Instance + "/";
            jwt.Authority = $"{instance}{auth.TenantId}/v2.0";
            jwt.RequireHttpsMetadata = !new Uri(instance).IsLoopback;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                // v2.0 and v1.0 access tokens of this tenant only.
                ValidIssuers = [$"{instance}{auth.TenantId}/v2.0", $"https://sts.windows.net/{auth.TenantId}/"],
                ValidAudiences = [auth.Audience!],
                ValidateLifetime = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = AuthClaims.ClockSkew,
                NameClaimType = "sub",
                RoleClaimType = AuthClaims.Roles,
            };
            var allowed = auth.AllowedClientIdList;
            if (allowed.Count > 0)
            {
                jwt.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        var client = context.Principal?.FindFirst("azp")?.Value ?? context.Principal?.FindFirst("appid")?.Value;
                        if (client is null || !allowed.Contains(client, StringComparer.OrdinalIgnoreCase))
                        {
                            context.Fail("The client application is not allowed (AzKv__Auth__AllowedClientIds).");
                        }

                        return Task.CompletedTask;
                    },
                };
            }
        });
    }

    /// <summary>Authenticates the request's bearer token (the scheme's handler; works the same in the Functions worker).</summary>
    public static Task<AuthenticateResult> AuthenticateAsync(Microsoft.AspNetCore.Http.HttpContext context) =>
        context.AuthenticateAsync(Scheme);
}
