using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AzKv.Functions.Api;

/// <summary>
/// <c>/v1/kv/{key}</c> (get, put, delete) and <c>/v1/kv</c> (list). Public because the worker's
/// function discovery only indexes public methods of public types.
/// </summary>
public sealed class KvFunctions
{
    /// <summary>The key route: a catch-all, since keys may contain <c>/</c> (docs/api.md, "Keys in URLs").</summary>
    internal const string KeyRoute = "v1/kv/{*key}";

    private readonly FrontEndApi _api;

    public KvFunctions(FrontEndApi api)
    {
        _api = api;
    }

    [Function(ApiEndpointNames.GetKey)]
    public Task<IActionResult> GetKeyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = KeyRoute)] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.GetKey, request);

    [Function(ApiEndpointNames.PutKey)]
    public Task<IActionResult> PutKeyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = KeyRoute)] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.PutKey, request);

    [Function(ApiEndpointNames.DeleteKey)]
    public Task<IActionResult> DeleteKeyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = KeyRoute)] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.DeleteKey, request);

    [Function(ApiEndpointNames.ListKeys)]
    public Task<IActionResult> ListKeysAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/kv")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.ListKeys, request);
}
