using AzKv.Server.WebConsole;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary>
/// The whole HTTP API of a node (docs/api.md), mapped in one place: the Kestrel node maps it onto its
/// web application, and <see cref="FrontEndApi"/> maps it onto a route builder of its own to serve the
/// same endpoints from the Azure Functions front end.
/// </summary>
internal static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapAzKvApi(this IEndpointRouteBuilder app)
    {
        app.MapKvEndpoints();
        app.MapListEndpoint();
        app.MapWatchEndpoint();
        app.MapClusterEndpoints();
        app.MapReplicationEndpoints();
        app.MapInternalEndpoints();
        app.MapConsole();
        return app;
    }
}
