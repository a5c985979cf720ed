using AzKv.Server.Api;
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
/// files only and needs no authentication.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>
    /// Scripts and styles only from this origin, no inline script or style, no other origin at all;
    /// API calls (fetch) to this origin only; no framing.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string AssetsFolder = "assets/";

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/console/{**path}", Serve)
            .WithName(ApiEndpointNames.Console)
            .ExcludeFromDescription();
        return app;
    }

    private static IResult Serve(HttpContext context, string? path)
    {
        ConsoleAsset? asset;
        if (path is not null && path.StartsWith(AssetsFolder, StringComparison.Ordinal))
        {
            if (!ConsoleAssets.All.TryGetValue(path, out asset))
            {
                ApplySecurityHeaders(context.Response);
                return Problems.ConsoleFileNotFound(path);
            }
        }
        else
        {
            asset = ConsoleAssets.Index;
        }

        var response = context.Response;
        ApplySecurityHeaders(response);

        // Revalidate every time: the files keep their names from one build to the next, and the
        // strong ETag turns a revalidation of an unchanged file into a 304 without a body.
        response.Headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Content, asset.ContentType, entityTag: new EntityTagHeaderValue(asset.ETag));
    }

    private static void ApplySecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }
}
