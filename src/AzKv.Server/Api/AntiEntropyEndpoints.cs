using System.Collections.Immutable;
using System.Globalization;
using AzKv.Cluster;
using AzKv.Replication;
using AzKv.Server.Node;
using AzKv.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary>
/// Anti-entropy (docs/replication.md): the operator's <c>POST /v1/replication/{region}/verify</c>, which verifies every
/// partition of the region (this node's itself, the other live owners' through <c>/v1/internal/antientropy/verify</c>),
/// and the node-to-node endpoints a peer region's verifier reads this node's Merkle trees and leaf buckets from (node
/// identities only, like every <c>/v1/internal</c> endpoint).
/// </summary>
internal static class AntiEntropyEndpoints
{
    /// <summary>Most parents (tree) or leaves one internal request may name.</summary>
    public const int MaxIndices = 256;

    public static void MapAntiEntropyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/replication/{region}/verify", VerifyAsync).WithTags("replication").WithName(ApiEndpointNames.VerifyReplication);
        var group = app.MapGroup("/v1/internal/antientropy").WithTags("internal").ExcludeFromDescription();
        group.MapPost("/verify/{region}", VerifyHereAsync);
        group.MapGet("/{partition:int}/tree", Tree);
        group.MapGet("/{partition:int}/leaves", Leaves);
    }

    /// <summary>
    /// Verifies every partition of this region against <paramref name="region"/>: this node's own, and each other live
    /// owner's (asked in turn). A partition that no node answered for is reported as failed, so the outcome is
    /// <c>equal</c> only when the whole region was compared.
    /// </summary>
    private static async Task<IResult> VerifyAsync(string region, HttpContext context, AntiEntropyService service, NodeSupervisor host, Forwarder forwarder)
    {
        var cancellationToken = context.RequestAborted;
        var clock = System.Diagnostics.Stopwatch.GetTimestamp();
        var local = await service.Scheduler.VerifyAsync(region, cancellationToken).ConfigureAwait(false);
        if (local is null)
        {
            return Problems.UnknownRegion($"This node does not replicate from a region named '{region}' (AzKv__Peers).");
        }

        var nodes = new List<NodeVerificationItem> { new(host.Node.NodeId, local.Outcome) { Error = local.Error } };
        var partitions = new SortedDictionary<int, PartitionVerification>();
        foreach (var partition in local.Partitions)
        {
            partitions.TryAdd(partition.Partition, partition);
        }

        var others = host.Members?.Members.Where(m => m.IsOwner && !string.Equals(m.NodeId, host.Node.NodeId, StringComparison.Ordinal)) ?? [];
        foreach (var member in others)
        {
            var answer = Uri.TryCreate(member.Endpoint, UriKind.Absolute, out var endpoint)
                ? await forwarder.PostAsync(new Uri(endpoint, "/v1/internal/antientropy/verify/" + Uri.EscapeDataString(region)), ApiJson.Context.VerificationResponse, cancellationToken).ConfigureAwait(false)
                : null;
            if (answer is null)
            {
                nodes.Add(new(member.NodeId, "failed") { Error = $"Node {member.NodeId} ({member.Endpoint}) did not answer." });
                continue;
            }

            nodes.Add(new(member.NodeId, answer.Outcome) { Error = answer.Error });
            foreach (var item in answer.Partitions ?? [])
            {
                // A partition handed over between the two calls may be reported twice: the first answer stands.
                partitions.TryAdd(item.Partition, new PartitionVerification(
                    item.Partition, item.NodesExchanged, item.DifferingLeaves, item.KeysExchanged, item.DivergentKeys, item.RepairedKeys, item.Error));
            }
        }

        for (var partition = 0; partition < host.PartitionCount; partition++)
        {
            partitions.TryAdd(partition, new PartitionVerification(partition, 0, 0, 0, 0, 0, $"No live node of this region verified partition {partition}."));
        }

        var combined = new AntiEntropyResult(region, local.Started, System.Diagnostics.Stopwatch.GetElapsedTime(clock), [.. partitions.Values]);
        return Results.Json(VerificationResponse.From(combined, withPartitions: true) with { Nodes = nodes }, ApiJson.Context.VerificationResponse);
    }

    /// <summary>Node to node: verifies only the partitions this node serves (the receiving node of the public verify asks every owner).</summary>
    private static async Task<IResult> VerifyHereAsync(string region, HttpContext context, AntiEntropyService service)
    {
        var result = await service.Scheduler.VerifyAsync(region, context.RequestAborted).ConfigureAwait(false);
        return result is null
            ? Problems.UnknownRegion($"This node does not replicate from a region named '{region}' (AzKv__Peers).")
            : Results.Json(VerificationResponse.From(result, withPartitions: true), ApiJson.Context.VerificationResponse);
    }

    /// <summary><c>level=L&amp;parents=i,j</c>: the children at level L of parents i, j (level 0: the root).</summary>
    private static IResult Tree(HttpContext context, NodeSupervisor host, int partition, int? level, string? parents)
    {
        if (level is not { } at || at < 0 || at > MerkleTree.Depth)
        {
            return Problems.InvalidRequest($"level must be an integer from 0 to {MerkleTree.Depth}.");
        }

        var width = at == 0 ? 1 : MerkleTree.NodesAt(at - 1);
        if (!TryParseIndices(parents, width, out var indices) || (at > 0 && indices.Count == 0))
        {
            return Problems.InvalidRequest($"parents must be 1 to {MaxIndices} node numbers below {width}, separated by commas.");
        }

        if (!TryGetTree(context, host, partition, out var tree, out var problem))
        {
            return problem;
        }

        var hashes = tree.Children(at, indices).Select(MerkleTree.Format).ToList();
        return Results.Json(new AntiEntropyTreeResponse(partition, MerkleTree.Fanout, MerkleTree.Depth, at, hashes), ApiJson.Context.AntiEntropyTreeResponse);
    }

    /// <summary><c>ids=i,j</c>: every key of leaf buckets i, j with its full sibling set.</summary>
    private static IResult Leaves(HttpContext context, NodeSupervisor host, int partition, string? ids)
    {
        if (!TryParseIndices(ids, MerkleTree.LeafCount, out var leaves) || leaves.Count == 0)
        {
            return Problems.InvalidRequest($"ids must be 1 to {MaxIndices} leaf numbers below {MerkleTree.LeafCount}, separated by commas.");
        }

        if (!TryGetTree(context, host, partition, out var tree, out var problem))
        {
            return problem;
        }

        var entries = leaves.SelectMany(tree.EntriesOf).Select(e => new AntiEntropyEntry(
            e.Key,
            Convert.ToBase64String(e.Value.Context.ToBytes()),
            [.. e.Value.Siblings.Select(v => new AntiEntropyVersion(v.Dot.Region, v.Dot.Counter, v.Hlc, v.IsTombstone, v.ContentType, Convert.ToBase64String(v.Value.Span)))]))
            .ToList();
        return Results.Json(new AntiEntropyLeavesResponse(partition, entries), ApiJson.Context.AntiEntropyLeavesResponse);
    }

    /// <summary>Decodes a leaves answer back into sibling sets; false when it is not valid.</summary>
    internal static bool TryDecode(AntiEntropyEntry entry, out SiblingSet set)
    {
        set = SiblingSet.Empty;
        try
        {
            if (!VersionVector.TryDecode(Convert.FromBase64String(entry.Context), out var context))
            {
                return false;
            }

            var versions = entry.Versions.Select(v => new VersionedValue(new Dot(v.Region, v.Counter), v.Hlc, v.Tombstone, v.ContentType, Convert.FromBase64String(v.Value)));
            return SiblingSet.TryCreate(context, versions, out set, out _);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return false;
        }
    }

    private static bool TryGetTree(HttpContext context, NodeSupervisor host, int partition, out MerkleTree tree, out IResult problem)
    {
        tree = null!;
        if (!InternalEndpoints.TryGetServedState(context, host, partition, out var state, out problem))
        {
            return false;
        }

        tree = MerkleTree.Of(state);
        return true;
    }

    private static bool TryParseIndices(string? text, int limit, out List<int> indices)
    {
        indices = [];
        foreach (var part in (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= limit || indices.Count == MaxIndices)
            {
                return false;
            }

            indices.Add(index);
        }

        return true;
    }
}
