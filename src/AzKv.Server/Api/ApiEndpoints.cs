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
        // Every endpoint runs behind the access check (docs/security.md): it is part of the
        // endpoint, so the Functions front end, which invokes endpoints directly, applies it too.
        var api = app.MapGroup(string.Empty);
        api.AddEndpointFilter(Security.AccessFilter.InvokeAsync);
        api.MapKvEndpoints();
        api.MapListEndpoint();
        api.MapWatchEndpoint();
        api.MapClusterEndpoints();
        api.MapReplicationEndpoints();
        api.MapInternalEndpoints();
        api.MapAntiEntropyEndpoints();
        api.MapAuthEndpoints();
        api.MapSnapshotEndpoints();

        // The console's page and files are public (they hold no data); the console calls the API
        // above with the user's token, so it gets no more than the user may do.
        app.MapConsole();
        return app;
    }
}
