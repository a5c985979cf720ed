using Microsoft.Extensions.Logging;

namespace AzKv.Replication;

/// <summary>
/// A transport that reads a source region's event hub and falls back to its blob tail (bootstrap,
/// catch-up past the hub's retention, hub failures). The node supervisor attaches the source's
/// change monitor, which wakes it while a partition reads the blob tail, and reports which path
/// each partition reads.
/// </summary>
public interface IHubReplicationTransport : IReplicationTransport
{
    /// <summary>Sets what wakes a partition reading the blob tail, and where the transport logs.</summary>
    void Attach(IReplicationWakeSource? blobWake, ILogger logger);

    /// <summary>The path a partition reads now: <c>eventhubs</c> or <c>blobtail</c>.</summary>
    string TransportOf(int partition);
}
