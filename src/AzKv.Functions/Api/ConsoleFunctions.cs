using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AzKv.Functions.Api;

/// <summary><c>/console/...</c>: the web console's page and files, as every node serves them (docs/console.md).</summary>
public sealed class ConsoleFunctions
{
    private readonly FrontEndApi _api;

    public ConsoleFunctions(FrontEndApi api)
    {
        _api = api;
    }

    [Function(ApiEndpointNames.Console)]
    public Task<IActionResult> ConsoleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/{*path}")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Console, request);
}
