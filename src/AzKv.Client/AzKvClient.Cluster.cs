using System.Net;
using AzKv.Client.Errors;
using AzKv.Client.Serialization;

namespace AzKv.Client;

public sealed partial class AzKvClient
{
    /// <summary>Reads the answering node's view of its region: nodes, partition owners, replication.</summary>
    /// <exception cref="AzKvException">The request failed.</exception>
    public async Task<ClusterStatus> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/cluster", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ProblemDetails.ToExceptionAsync(response, "GET /v1/cluster", cancellationToken).ConfigureAwait(false);
        }

        return await ReadJsonAsync(response, ClientJsonContext.Default.ClusterStatus, cancellationToken).ConfigureAwait(false);
    }
}
