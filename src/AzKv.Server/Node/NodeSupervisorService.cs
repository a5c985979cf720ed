using AzKv.Cluster;
using Microsoft.Extensions.Hosting;

namespace AzKv.Server.Node;

/// <summary>
/// Runs this node's <see cref="NodeSupervisor"/> (src/AzKv.Core/Cluster) with the host: starts it
/// with the host and stops it (leave membership, hand every partition over) on shutdown. The
/// supervisor itself is a singleton the endpoints read; the container disposes it.
/// </summary>
internal sealed class NodeSupervisorService(NodeSupervisor supervisor) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => supervisor.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => supervisor.StopAsync(cancellationToken);
}
