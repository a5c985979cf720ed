using System.Text.Json.Serialization;
using AzKv.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary><c>GET /v1/auth/me</c>: who the caller is and what it may do (the web console shows a read-only UI to readers).</summary>
internal static class AuthEndpoints
{
    public static void MapAuthEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/auth/me", MeAsync).WithTags("auth").WithName(ApiEndpointNames.AuthMe);

    private static async Task<IResult> MeAsync(HttpContext context, AccessControl access)
    {
        var (principal, _) = await access.AuthenticateAsync(context).ConfigureAwait(false);
        var response = principal is null
            ? new MeResponse(false, null, [])
            : new MeResponse(principal.Authenticated, principal.Subject, [.. principal.Grants.Select(g => new MeRole(AccessGrant.Name(g.Role), g.IsUnscoped ? [] : g.Prefixes))]);
        return Results.Json(response, ApiJson.Context.MeResponse);
    }
}

/// <summary>The answer of <c>GET /v1/auth/me</c> (docs/api.md).</summary>
internal sealed record MeResponse(
    [property: JsonPropertyName("authenticated")] bool Authenticated,
    [property: JsonPropertyName("subject")] string? Subject,
    [property: JsonPropertyName("roles")] IReadOnlyList<MeRole> Roles);

/// <summary>One grant: <c>reader|writer|admin</c> over the prefixes (empty: every key).</summary>
internal sealed record MeRole(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("prefixes")] IReadOnlyList<string> Prefixes);
