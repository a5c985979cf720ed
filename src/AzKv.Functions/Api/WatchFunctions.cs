using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AzKv.Functions.Api;

/// <summary>
/// <c>/v1/watch</c>: the long poll, or (<c>Accept: text/event-stream</c>) a stream the endpoint writes
/// and flushes to the response as changes arrive, until the client goes away.
/// </summary>
public sealed class WatchFunctions
{
    private readonly FrontEndApi _api;

    public WatchFunctions(FrontEndApi api)
    {
        _api = api;
    }

    [Function(ApiEndpointNames.Watch)]
    public Task<IActionResult> WatchAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/watch")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Watch, request);
}
