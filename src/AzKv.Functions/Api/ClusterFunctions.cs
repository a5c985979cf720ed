using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AzKv.Functions.Api;

/// <summary><c>/v1/cluster</c>, <c>/v1/conflicts</c>, <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>.</summary>
public sealed class ClusterFunctions
{
    private readonly FrontEndApi _api;

    public ClusterFunctions(FrontEndApi api)
    {
        _api = api;
    }

    [Function(ApiEndpointNames.Cluster)]
    public Task<IActionResult> ClusterAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/cluster")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Cluster, request);

    [Function(ApiEndpointNames.Conflicts)]
    public Task<IActionResult> ConflictsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/conflicts")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Conflicts, request);

    [Function(ApiEndpointNames.Health)]
    public Task<IActionResult> HealthAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "healthz")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Health, request);

    [Function(ApiEndpointNames.Ready)]
    public Task<IActionResult> ReadyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "readyz")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Ready, request);

    [Function(ApiEndpointNames.Metrics)]
    public Task<IActionResult> MetricsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "metrics")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Metrics, request);
}
