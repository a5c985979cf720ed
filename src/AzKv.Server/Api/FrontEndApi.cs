using System.Collections.Frozen;
using AzKv.Server.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace AzKv.Server.Api;

/// <summary>
/// The node's API endpoints, invocable by name on any <see cref="HttpContext"/>: what an Azure
/// Functions HTTP trigger calls. The endpoints are built by <see cref="ApiEndpoints.MapAzKvApi"/>, the
/// same mapping the Kestrel node serves, so binding, validation, forwarding (at most once, loop guard,
/// not-owner refresh), problem documents and watch streaming are the node's own code; this class adds
/// only what Kestrel's pipeline adds around an endpoint: route values, request metrics, and the
/// problem+json answer to an exception.
/// </summary>
public sealed class FrontEndApi
{
    /// <summary>
    /// Endpoints a front end does not serve: the replication switches act on the partitions of the node
    /// that receives them, and a front end has none (call an owner node). The node-to-node
    /// <c>/v1/internal</c> endpoints have no name and are never exposed.
    /// </summary>
    private static readonly FrozenSet<string> NodeOnly = FrozenSet.Create(
        StringComparer.Ordinal,
        ApiEndpointNames.PauseReplication,
        ApiEndpointNames.ResumeReplication,
        ApiEndpointNames.VerifyReplication, // anti-entropy starts at an owner node (it asks the region's other owners)
        ApiEndpointNames.ListRoles, // role assignments: an admin operation on the cluster's storage, served by owner nodes
        ApiEndpointNames.AssignRole,
        ApiEndpointNames.RemoveRole);

    private readonly IServiceProvider _services;
    private readonly FrozenDictionary<string, (RouteEndpoint Endpoint, TemplateMatcher Matcher)> _endpoints;

    /// <summary>Builds the endpoints over <paramref name="services"/> (a front end's, see <see cref="ServerApp.AddAzKvFrontEnd"/>).</summary>
    public FrontEndApi(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;

        // Listening from the start, as the Kestrel node does: a listener only sees later measurements.
        _ = services.GetService(typeof(PrometheusExporter));
        var builder = new RouteBuilder(services);
        builder.MapAzKvApi();
        _endpoints = builder.DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(endpoint => (Endpoint: endpoint, Name: endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName))
            .Where(entry => entry.Name is not null && !NodeOnly.Contains(entry.Name))
            .ToFrozenDictionary(
                entry => entry.Name!,
                entry => (entry.Endpoint, new TemplateMatcher(new RouteTemplate(entry.Endpoint.RoutePattern), new RouteValueDictionary())),
                StringComparer.Ordinal);
        Routes = [.. _endpoints.Values
            .Select(e => new ApiRoute(
                e.Endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName,
                e.Endpoint.RoutePattern.RawText ?? string.Empty,
                e.Endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))
            .OrderBy(r => r.Pattern, StringComparer.Ordinal)
            .ThenBy(r => r.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every route a front end serves, with the endpoint name to invoke it by.</summary>
    public IReadOnlyList<ApiRoute> Routes { get; }

    /// <summary>
    /// Runs endpoint <paramref name="endpointName"/> (one of <see cref="ApiEndpointNames"/>) on
    /// <paramref name="context"/>: the answer, problem+json included, is written to its response.
    /// </summary>
    public Task InvokeAsync(string endpointName, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_endpoints.TryGetValue(endpointName, out var entry))
        {
            throw new ArgumentException($"'{endpointName}' is not an endpoint a front end serves.", nameof(endpointName));
        }

        return InvokeCoreAsync(entry.Endpoint, entry.Matcher, context);
    }

    private async Task InvokeCoreAsync(RouteEndpoint endpoint, TemplateMatcher matcher, HttpContext context)
    {
        // The host's own endpoint (the function's) is put back afterwards: its pipeline may look at it.
        var hostEndpoint = context.GetEndpoint();
        context.RequestServices ??= _services;
        context.SetEndpoint(endpoint);
        var values = new RouteValueDictionary();
        if (matcher.TryMatch(context.Request.Path, values))
        {
            context.Request.RouteValues = values;
        }

        try
        {
            await ServerMetrics.RecordAsync(context, RunAsync).ConfigureAwait(false);
        }
        finally
        {
            context.SetEndpoint(hostEndpoint);
        }

        async Task RunAsync(HttpContext http)
        {
            try
            {
                await endpoint.RequestDelegate!(http).ConfigureAwait(false);
            }
            catch (Exception ex) when (!http.Response.HasStarted && ex is not OperationCanceledException)
            {
                // What the node's exception handler answers (ServerApp): problem+json, never a stack trace.
                http.Response.Clear();
                await Problems.Unexpected(ex).ExecuteAsync(http).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The route builder the endpoints are built on: the front end's services, no web application.</summary>
    private sealed class RouteBuilder : IEndpointRouteBuilder
    {
        public RouteBuilder(IServiceProvider services)
        {
            ServiceProvider = services;
        }

        public IServiceProvider ServiceProvider { get; }

        public ICollection<EndpointDataSource> DataSources { get; } = [];

        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(ServiceProvider);
    }
}

/// <summary>One route of the API: the endpoint name, its pattern (<c>/v1/kv/{**key}</c>) and HTTP methods.</summary>
/// <param name="Name">Endpoint name (<see cref="ApiEndpointNames"/>).</param>
/// <param name="Pattern">ASP.NET Core route pattern, with its leading slash.</param>
/// <param name="Methods">HTTP methods.</param>
public sealed record ApiRoute(string Name, string Pattern, IReadOnlyList<string> Methods);

/// <summary>The names of the API's endpoints, as the node maps them (<c>WithName</c>).</summary>
public static class ApiEndpointNames
{
    public const string GetKey = "GetKey";
    public const string PutKey = "PutKey";
    public const string DeleteKey = "DeleteKey";
    public const string ListKeys = "ListKeys";
    public const string Watch = "Watch";
    public const string Cluster = "Cluster";
    public const string Conflicts = "Conflicts";
    public const string Audit = "Audit";
    public const string Health = "Health";
    public const string Ready = "Ready";
    public const string Metrics = "Metrics";
    public const string PauseReplication = "PauseReplication";
    public const string ResumeReplication = "ResumeReplication";
    public const string VerifyReplication = "VerifyReplication";
    public const string AuthMe = "AuthMe";
    public const string ListRoles = "ListRoles";
    public const string AssignRole = "AssignRole";
    public const string RemoveRole = "RemoveRole";
    public const string CreateSnapshot = "CreateSnapshot";
    public const string ListSnapshots = "ListSnapshots";
    public const string GetSnapshot = "GetSnapshot";
    public const string GetSnapshotItems = "GetSnapshotItems";
    public const string DeleteSnapshot = "DeleteSnapshot";

    /// <summary>The web console's page and files (<c>/console/{**path}</c>, docs/console.md).</summary>
    public const string Console = "Console";
}
