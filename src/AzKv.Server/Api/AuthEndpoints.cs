using System.Text.Json.Serialization;
using AzKv.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary><c>GET /v1/auth/me</c>: who the caller is and what it may do (the web console shows a read-only UI to readers).</summary>
internal static class AuthEndpoints
{
    public static void MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/auth/me", MeAsync).WithTags("auth").WithName(ApiEndpointNames.AuthMe);
        app.MapGet("/v1/auth/roles", ListRolesAsync).WithTags("auth").WithName(ApiEndpointNames.ListRoles);
        app.MapPut("/v1/auth/roles/{principal}/{role}", AssignRoleAsync).WithTags("auth").WithName(ApiEndpointNames.AssignRole);
        app.MapDelete("/v1/auth/roles/{principal}/{role}", RemoveRoleAsync).WithTags("auth").WithName(ApiEndpointNames.RemoveRole);
    }

    private static async Task<IResult> ListRolesAsync(HttpContext context, RoleAssignmentStore store)
    {
        var (items, _) = await store.ReadAsync(context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new RoleAssignmentsDocument(items), RoleJsonContext.Default.RoleAssignmentsDocument);
    }

    /// <summary><c>PUT /v1/auth/roles/{principal}/{role}</c> with <c>{"prefixes": [...]}</c> (or no body: every key): sets that grant.</summary>
    private static async Task<IResult> AssignRoleAsync(HttpContext context, RoleAssignmentStore store, string principal, string role)
    {
        if (!AccessGrant.TryParseRole(role, out _) || !IsPrincipal(principal))
        {
            return Problems.InvalidRequest("The role must be reader, writer or admin, and the principal 1–128 characters of letters, digits, '-', '_', '.', ':' or '@'.");
        }

        IReadOnlyList<string> prefixes = [];
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                var body = await System.Text.Json.JsonSerializer.DeserializeAsync(context.Request.Body, RoleJsonContext.Default.RoleAssignment, context.RequestAborted).ConfigureAwait(false);
                prefixes = body?.Prefixes ?? [];
            }
            catch (System.Text.Json.JsonException)
            {
                return Problems.InvalidRequest("The body must be {\"prefixes\": [\"app/\", ...]}.");
            }
        }

        if (prefixes.Any(p => p.Length is 0 or > 1024 || p.Any(char.IsControl)))
        {
            return Problems.InvalidRequest("Prefixes are 1–1024 characters without control characters.");
        }

        var assignment = new RoleAssignment(principal, role, prefixes);
        await store.UpdateAsync(items => [.. items.Where(a => !Same(a, principal, role)), assignment], context.RequestAborted).ConfigureAwait(false);
        return Results.Json(assignment, RoleJsonContext.Default.RoleAssignment);
    }

    private static async Task<IResult> RemoveRoleAsync(HttpContext context, RoleAssignmentStore store, string principal, string role)
    {
        var found = false;
        await store.UpdateAsync(
            items =>
            {
                found = items.Any(a => Same(a, principal, role));
                return [.. items.Where(a => !Same(a, principal, role))];
            },
            context.RequestAborted).ConfigureAwait(false);
        return found ? Results.NoContent() : Problems.NotFound($"{principal} {role}");
    }

    private static bool Same(RoleAssignment assignment, string principal, string role) =>
        string.Equals(assignment.Principal, principal, StringComparison.OrdinalIgnoreCase) && assignment.Role == role;

    private static bool IsPrincipal(string principal) =>
        principal.Length is > 0 and <= 128 && principal.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@');

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
