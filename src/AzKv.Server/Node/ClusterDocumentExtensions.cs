using AzKv.Cluster;

namespace AzKv.Server.Node;

/// <summary>What the HTTP layer derives from <c>cluster.json</c>.</summary>
internal static class ClusterDocumentExtensions
{
    extension(ClusterDocument cluster)
    {
        /// <summary>The identity that watch cursors carry (<see cref="Api.WatchCursor"/>): region and storage incarnation.</summary>
        public ulong CursorTag => Api.WatchCursor.StoreTag(cluster.Region, cluster.StorageIdentity);
    }
}
