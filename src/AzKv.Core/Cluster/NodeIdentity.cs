namespace AzKv.Cluster;

/// <summary>Who this node is.</summary>
/// <param name="NodeId">Node id.</param>
/// <param name="Region">Region id.</param>
/// <param name="Endpoint">Advertised URL.</param>
/// <param name="Roles">Roles.</param>
/// <param name="ConfiguredPartitionCount">Partition count used if the cluster is new.</param>
internal sealed record NodeIdentity(string NodeId, string Region, string Endpoint, IReadOnlyList<string> Roles, int ConfiguredPartitionCount);
