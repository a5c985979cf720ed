using AzKv.Cluster;
using AzKv.Server.Node;

namespace AzKv.Server.Api;

/// <summary>
/// The node's one <see cref="WatchFanout"/>, made when the first SSE stream can use it (the store's
/// identity and partitions are known only after start-up) and ended when the node stops.
/// </summary>
internal sealed class WatchFanouts : IDisposable
{
    /// <summary>How often an idle stream gets a <c>: keep-alive</c> comment (docs/api.md).</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private WatchFanout? _fanout;
    private bool _disposed;

    public WatchFanouts(TimeProvider time) => _time = time;

    /// <summary>
    /// The fan-out, when this node serves every partition itself (then every change reaches it);
    /// null otherwise: streams then poll the owners elsewhere, one by one.
    /// </summary>
    public WatchFanout? For(NodeSupervisor host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Cluster is not { } cluster || host.PartitionCount == 0)
        {
            return null;
        }

        for (var p = 0; p < host.PartitionCount; p++)
        {
            if (host.ServingOwner(p) is null)
            {
                return null;
            }
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return null;
            }

            return _fanout ??= new WatchFanout(
                host.Slots.Select(s => s.Feed).ToArray(), p => host.ServingOwner(p) is not null, cluster.CursorTag, _time, KeepAliveInterval);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _fanout?.Dispose();
        }
    }
}
