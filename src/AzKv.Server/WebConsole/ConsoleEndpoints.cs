using AzKv.Server.Api;
using AzKv.Server.Hosting;
using AzKv.Server.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace AzKv.Server.WebConsole;

/// <summary>
/// <c>GET /console/{**path}</c>: the web console (docs/console.md), served from the files embedded in
/// this assembly. <c>assets/...</c> are the scripts and styles; every other path is the single page
/// (<c>index.html</c>), which routes on the client (<c>/console/flags</c>, <c>/console/cluster</c>).
/// The console calls the public API with the user's token like any other client: this endpoint serves
/// files only and needs no authentication. <c>config.json</c> tells the console how to sign in (from
/// the node's auth settings: no secret, only the public ids of the Entra ID registration).
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>
    /// Scripts and styles only from this origin, no inline script or style, no other origin at all;
    /// API calls (fetch) to this origin only; no framing. With Entra ID sign-in, the token endpoint's
    /// origin (the authority) is the one other origin <c>connect-src</c> allows.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The path, under the node, the console's Entra ID sign-in returns to (the SPA redirect URI).</summary>
    public const string SignInRedirectPath = "/console/signin";

    private const string ConfigFile = "config.json";

    private const string AssetsFolder = "assets/";

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/console/{**path}", Serve)
            .WithName(ApiEndpointNames.Console)
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>The console's policy for these settings: <see cref="ContentSecurityPolicy"/>, plus the authority's origin in <c>connect-src</c> when the console signs in with Entra ID.</summary>
    public static string ContentSecurityPolicyFor(AuthSettings settings) =>
        SignInFor(settings) is { } signIn
            ? ContentSecurityPolicy.Replace("connect-src 'self'", "connect-src 'self' " + new Uri(signIn.TokenEndpoint).GetLeftPart(UriPartial.Authority), StringComparison.Ordinal)
            : ContentSecurityPolicy;

    /// <summary>The console's sign-in for these settings: Entra ID when the mode is EntraId and a console client id is set, else none (a pasted token or the URL fragment).</summary>
    public static ConsoleSignIn? SignInFor(AuthSettings settings)
    {
        if (settings.Mode != AuthSettings.EntraId || string.IsNullOrWhiteSpace(settings.ConsoleClientId))
        {
            return null;
        }

        var authority = settings.Authority;
        return new ConsoleSignIn(
            authority + "/v2.0",
            authority + "/oauth2/v2.0/authorize",
            authority + "/oauth2/v2.0/token",
            settings.ConsoleClientId.Trim(),
            settings.EffectiveConsoleScope,
            SignInRedirectPath);
    }

    private static IResult Serve(HttpContext context, string? path)
    {
        var settings = context.RequestServices.GetRequiredService<AccessControl>().Settings;
        if (path == ConfigFile)
        {
            ApplySecurityHeaders(context.Response, settings);
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(new ConsoleConfigResponse(settings.Mode, SignInFor(settings)), ApiJson.Context.ConsoleConfigResponse);
        }

        ConsoleAsset? asset;
        if (path is not null && path.StartsWith(AssetsFolder, StringComparison.Ordinal))
        {
            if (!ConsoleAssets.All.TryGetValue(path, out asset))
            {
                ApplySecurityHeaders(context.Response, settings);
                return Problems.ConsoleFileNotFound(path);
            }
        }
        else
        {
            asset = ConsoleAssets.Index;
        }

        var response = context.Response;
        ApplySecurityHeaders(response, settings);

        // Revalidate every time: the files keep their names from one build to the next, and the
        // strong ETag turns a revalidation of an unchanged file into a 304 without a body.
        response.Headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Content, asset.ContentType, entityTag: new EntityTagHeaderValue(asset.ETag));
    }

    private static void ApplySecurityHeaders(HttpResponse response, AuthSettings settings)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicyFor(settings);
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}
