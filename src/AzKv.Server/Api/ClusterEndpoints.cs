using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Server.Metrics;
using AzKv.Storage;
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
        app.MapGet("/v1/cluster", Cluster).WithTags("cluster").WithName(ApiEndpointNames.Cluster);
        app.MapGet("/healthz", () => Results.Text("ok\n")).WithTags("health").WithName(ApiEndpointNames.Health);
        app.MapGet("/readyz", Ready).WithTags("health").WithName(ApiEndpointNames.Ready);
        app.MapGet("/metrics", (PrometheusExporter exporter, NodeSupervisor host) => Results.Text(exporter.Render() + ReplicationGauges(host), "text/plain; version=0.0.4; charset=utf-8"))
            .WithTags("health").WithName(ApiEndpointNames.Metrics);
    }

    private static async Task<IResult> Cluster(HttpContext context, NodeSupervisor host, NodeIdentity node, Forwarder forwarder, IBlobStore store)
    {
        var members = host.Members?.Members ?? [];
        var nodes = members.Select(m => new ClusterNode(m.NodeId, m.Endpoint, m.Roles)).ToList();
        if (nodes.Count == 0)
        {
            nodes.Add(new ClusterNode(node.NodeId, node.Endpoint, node.Roles));
        }

        // Partitions served elsewhere: owner and epoch from the manifest, LSN from the owner.
        var manifests = new ManifestStore(store);
        var remote = host.Slots.Where(s => host.ServingOwner(s.Partition) is null).Select(s => s.Partition).ToList();
        var recorded = await Task.WhenAll(remote.Select(p => manifests.ReadAsync(p, context.RequestAborted))).ConfigureAwait(false);
        var lsns = new Dictionary<int, long>();
        var byOwner = new Dictionary<Uri, List<int>>();
        foreach (var p in remote)
        {
            if (await forwarder.ResolveOwnerAsync(p, refresh: false, context.RequestAborted).ConfigureAwait(false) is { } owner)
            {
                (byOwner.TryGetValue(owner, out var list) ? list : byOwner[owner] = []).Add(p);
            }
        }

        foreach (var (owner, partitions) in byOwner)
        {
            var query = "/v1/internal/changes?limit=1&positions=" + string.Join(',', partitions.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":now"));
            var answer = await forwarder.GetAsync(new Uri(owner, query), ApiJson.Context.ChangesResponse, context.RequestAborted).ConfigureAwait(false);
            foreach (var partition in answer?.Partitions ?? [])
            {
                if (!partition.NotServed)
                {
                    lsns[partition.Partition] = partition.Next;
                }
            }
        }

        var partitionsView = new List<ClusterPartition>(host.PartitionCount);
        foreach (var slot in host.Slots)
        {
            var owner = slot.Owner;
            if (owner is not null && owner.StopReason is null)
            {
                partitionsView.Add(new ClusterPartition(slot.Partition, node.NodeId, owner.Epoch, owner.Lsn, owner.IsServing));
                continue;
            }

            var manifest = recorded[remote.IndexOf(slot.Partition)]?.Manifest;
            var served = lsns.TryGetValue(slot.Partition, out var lsn);
            partitionsView.Add(new ClusterPartition(slot.Partition, manifest?.Owner?.NodeId, manifest?.Epoch ?? 0, served ? lsn : 0, served));
        }

        return Results.Json(
            new ClusterResponse(node.Region, node.NodeId, host.PartitionCount, nodes, partitionsView, ToApi(host.ReplicationStatus(), context.RequestServices.GetService(typeof(AntiEntropyService)) as AntiEntropyService)),
            ApiJson.Context.ClusterResponse);
    }

    private static List<ReplicationStatus> ToApi(IReadOnlyList<SourceReplicationStatus> status, AntiEntropyService? antiEntropy) =>
        [.. status.Select(s => new ReplicationStatus(s.Region, s.LagMilliseconds, s.LastAppliedHlc, s.Partitions, s.CaughtUp, s.Paused)
        {
            LastVerification = antiEntropy?.Scheduler.LastResults.TryGetValue(s.Region, out var last) == true ? VerificationResponse.From(last, withPartitions: false) : null,
            LastError = s.LastError,
            Transport = s.Transport,
            Positions = [.. s.Positions.Select(p => new ReplicationPositionItem(p.Partition, p.Lsn, p.Transport) { HubSequence = p.HubSequence })],
        })];

    /// <summary>Replication lag per source region as Prometheus gauges (this node's partitions; -1 while unknown).</summary>
    private static string ReplicationGauges(NodeSupervisor host)
    {
        var status = host.ReplicationStatus();
        if (status.Count == 0)
        {
            return string.Empty;
        }

        var text = new System.Text.StringBuilder();
        text.Append("# HELP azkv_replication_lag_milliseconds Now minus the HLC of the last record applied from the source region (0 when caught up; -1 unknown), largest over this node's partitions.\n");
        text.Append("# TYPE azkv_replication_lag_milliseconds gauge\n");
        foreach (var source in status)
        {
            text.Append("azkv_replication_lag_milliseconds{source=\"").Append(source.Region).Append("\"} ")
                .Append((source.LagMilliseconds ?? -1).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP azkv_replication_eventhubs 1 when every partition of this node reads the source region's event hub, 0 on the blob tail.\n");
        text.Append("# TYPE azkv_replication_eventhubs gauge\n");
        foreach (var source in status)
        {
            text.Append("azkv_replication_eventhubs{source=\"").Append(source.Region).Append("\"} ").Append(source.Transport == "eventhubs" ? '1' : '0').Append('\n');
        }

        text.Append("# HELP azkv_replication_caught_up 1 when every partition of this node has applied everything the source region has logged.\n");
        text.Append("# TYPE azkv_replication_caught_up gauge\n");
        foreach (var source in status)
        {
            text.Append("azkv_replication_caught_up{source=\"").Append(source.Region).Append("\"} ").Append(source.CaughtUp ? '1' : '0').Append('\n');
        }

        return text.ToString();
    }

    private static IResult Ready(NodeSupervisor host)
    {
        if (host.IsReady)
        {
            return Results.Text("ready\n");
        }

        var assigned = host.Ring?.PartitionsOf(host.Node.NodeId) ?? [];
        var corrupt = host.Slots.Where(s => s.CorruptReason is not null).Select(s => s.Partition).ToList();
        var serving = assigned.Count(p => host.Slots[p].Owner?.IsServing == true);
        var catchingUp = assigned.Select(p => host.CatchingUpWith(p)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (serving == assigned.Count && catchingUp.Count > 0)
        {
            return Problems.Unavailable(
                $"Every partition is owned, but replication is reading region(s) {string.Join(", ", catchingUp)} for the first time " +
                "(a region learns every write the others hold before it accepts its own); see /v1/cluster.");
        }

        return Problems.Unavailable(host.Ring is null
            ? "The node is joining the cluster."
            : corrupt.Count > 0
                ? $"Partitions {string.Join(", ", corrupt)} are corrupt and not served; {serving} of the {assigned.Count} assigned here serving."
                : $"{serving} of the {assigned.Count} partitions assigned to this node are owned and recovered.");
    }
}
