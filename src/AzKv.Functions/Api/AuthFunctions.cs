using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace AzKv.Functions.Api;

/// <summary>
/// <c>/v1/auth/me</c>: who the caller is, and <c>/v1/audit</c>: the region's audit log, read from its blobs like any node
/// does (docs/security.md). Role assignments are served by owner nodes only.
/// </summary>
public sealed class AuthFunctions
{
    private readonly FrontEndApi _api;

    public AuthFunctions(FrontEndApi api)
    {
        _api = api;
    }

    [Function(ApiEndpointNames.AuthMe)]
    public Task<IActionResult> MeAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/auth/me")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.AuthMe, request);

    [Function(ApiEndpointNames.Audit)]
    public Task<IActionResult> AuditAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/audit")] HttpRequest request) =>
        FunctionResponse.InvokeAsync(_api, ApiEndpointNames.Audit, request);
}
