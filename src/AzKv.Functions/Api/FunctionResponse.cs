using AzKv.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace AzKv.Functions.Api;

/// <summary>The one body every function has: run the node's endpoint on the request's HttpContext.</summary>
internal static class FunctionResponse
{
    /// <summary>
    /// Writes the endpoint's answer to <paramref name="request"/>'s response, then returns an empty
    /// result (the answer is already written; returning an <see cref="IActionResult"/> gives the
    /// function the usual <c>$return</c> HTTP output binding).
    /// </summary>
    public static async Task<IActionResult> InvokeAsync(FrontEndApi api, string endpointName, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        await api.InvokeAsync(endpointName, request.HttpContext).ConfigureAwait(false);
        return new EmptyResult();
    }
}
