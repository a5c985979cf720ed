using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AzKv.Functions.Api;

/// <summary>
/// <c>/v1/snapshots</c>: create, list, read and delete snapshots (docs/api.md, "Snapshots"). A front end creates a
/// snapshot like any node: it reads each partition from its owner at one LSN and writes the blob itself.
/// </summary>
public sealed class SnapshotFunctions
{
    private readonly FrontEndApi _api;

    public SnapshotFunctions(FrontEndApi api)
    {
        _api = api;
    }

    [Function(ApiEndpointNames.CreateSnapshot)]
    public Task<IActionResult> CreateAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/snapshots")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.CreateSnapshot, request);

    [Function(ApiEndpointNames.ListSnapshots)]
    public Task<IActionResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/snapshots")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.ListSnapshots, request);

    [Function(ApiEndpointNames.GetSnapshot)]
    public Task<IActionResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/snapshots/{name}")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.GetSnapshot, request);

    [Function(ApiEndpointNames.GetSnapshotItems)]
    public Task<IActionResult> ItemsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/snapshots/{name}/kv")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.GetSnapshotItems, request);

    [Function(ApiEndpointNames.DeleteSnapshot)]
    public Task<IActionResult> DeleteAsync([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/snapshots/{name}")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.DeleteSnapshot, request);
}
