using AzKv.Server.Metrics;
using AzKv.Server.Node;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary><c>/v1/cluster</c>, <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>.</summary>
internal static class ClusterEndpoints
{
    public static void MapClusterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/cluster", Cluster).WithTags("cluster").WithName("Cluster");
        app.MapGet("/healthz", () => Results.Text("ok\n")).WithTags("health").WithName("Health");
        app.MapGet("/readyz", Ready).WithTags("health").WithName("Ready");
        app.MapGet("/metrics", (PrometheusExporter exporter) => Results.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"))
            .WithTags("health").WithName("Metrics");
    }

    private static IResult Cluster(PartitionHost host, NodeIdentity node)
    {
        var partitions = host.Slots.Select(slot =>
        {
            var owner = slot.Owner;
            return owner is null || owner.StopReason is not null
                ? new ClusterPartition(slot.Partition, null, 0, slot.Feed.LastLsn, false)
                : new ClusterPartition(slot.Partition, node.NodeId, owner.Epoch, owner.Lsn, owner.IsServing);
        }).ToList();
        return Results.Json(
            new ClusterResponse(node.Region, node.NodeId, host.PartitionCount, [new ClusterNode(node.NodeId, node.Endpoint, node.Roles)], partitions, []),
            ApiJson.Context.ClusterResponse);
    }

    private static IResult Ready(PartitionHost host)
    {
        if (host.IsReady)
        {
            return Results.Text("ready\n");
        }

        var corrupt = host.Slots.Where(s => s.CorruptReason is not null).Select(s => s.Partition).ToList();
        var serving = host.Slots.Count(s => s.Owner?.IsServing == true);
        return Problems.Unavailable(corrupt.Count > 0
            ? $"Partitions {string.Join(", ", corrupt)} are corrupt and not served; {serving} of {host.PartitionCount} serving."
            : $"{serving} of {host.PartitionCount} partitions are owned and recovered.");
    }
}
