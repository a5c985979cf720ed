using System.Globalization;
using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Server.Node;
using AzKv.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary>
/// Node-to-node endpoints under <c>/v1/internal</c>: one node's partitions, for a front end that
/// lists or watches the whole keyspace. They never forward; a partition not served here is a 503
/// with the not-owner header, so the caller refreshes its owner and asks again.
/// </summary>
internal static class InternalEndpoints
{
    /// <summary>
    /// The state of <paramref name="partition"/> when this node serves it; else a 400 problem for a partition that does not
    /// exist, or a 503 with the not-owner header (the caller refreshes its owner and asks again). Every internal
    /// per-partition endpoint starts with it.
    /// </summary>
    internal static bool TryGetServedState(HttpContext context, NodeSupervisor host, int partition, out PartitionState state, out IResult problem)
    {
        state = null!;
        problem = Results.Empty;
        if (partition < 0 || partition >= host.PartitionCount)
        {
            problem = Problems.InvalidRequest($"There is no partition {partition}.");
            return false;
        }

        var owner = host.ServingOwner(partition);
        if (owner is null || !owner.TryGetState(out state))
        {
            context.Response.Headers[Forwarder.NotOwnerHeader] = "1";
            problem = Problems.Unavailable($"Partition {partition} is not served here.");
            return false;
        }

        return true;
    }

    public static void MapInternalEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/internal").WithTags("internal").ExcludeFromDescription();
        group.MapGet("/partitions/{partition:int}/keys", Keys);
        group.MapGet("/changes", Changes);
    }

    private static IResult Keys(HttpContext context, NodeSupervisor host, int partition, string? prefix, string? after, int? limit, bool? values, string? label)
    {
        if (!LabelQuery.TryGetFilter(label, out var filter, out var badLabel))
        {
            return badLabel!;
        }

        if (!TryGetServedState(context, host, partition, out var state, out var notServed))
        {
            return notServed;
        }

        var page = ListEndpoint.ScanPartition(state, host.ConflictPolicies, prefix ?? string.Empty, string.IsNullOrEmpty(after) ? null : after, Math.Clamp(limit ?? 100, 1, 1001), values ?? false, filter);
        return Results.Json(new PartitionKeysResponse(page), ApiJson.Context.PartitionKeysResponse);
    }

    /// <summary><c>positions=p:lsn,p:lsn</c>: changes after each position, without waiting.</summary>
    private static IResult Changes(HttpContext context, NodeSupervisor host, string? positions, string? prefix, int? limit)
    {
        var results = new List<PartitionChanges>();
        var buffer = new List<Change>();
        var budget = Math.Clamp(limit ?? 1000, 1, 1000);
        foreach (var part in (positions ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(':');
            long after = 0;
            var now = pieces.Length == 2 && pieces[1] == "now";
            if (pieces.Length != 2
                || !int.TryParse(pieces[0], NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
                || (!now && !long.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out after))
                || partition >= host.PartitionCount)
            {
                return Problems.InvalidRequest("positions must be partition:lsn (or partition:now) pairs separated by commas.");
            }

            var slot = host.Slots[partition];
            if (now)
            {
                after = slot.Feed.LastLsn;
            }
            if (host.ServingOwner(partition) is null)
            {
                results.Add(new PartitionChanges(partition, [], after, Expired: false, NotServed: true));
                continue;
            }

            buffer.Clear();
            if (!slot.Feed.TryRead(after, prefix ?? string.Empty, budget, buffer, out var next))
            {
                results.Add(new PartitionChanges(partition, [], after, Expired: true, NotServed: false));
                continue;
            }

            budget -= buffer.Count;
            var reached = buffer.Count > 0 && budget <= 0 ? buffer[^1].Lsn : next;
            results.Add(new PartitionChanges(partition, buffer.Select(InternalChange.From).ToList(), reached, Expired: false, NotServed: false));
        }

        return Results.Json(new ChangesResponse(results), ApiJson.Context.ChangesResponse);
    }
}

internal sealed record PartitionKeysResponse(IReadOnlyList<ListItem> Items);

internal sealed record InternalChange(long Lsn, string Key, bool Deleted, string ETag, string? ContentType, int Size)
{
    public static InternalChange From(Change change) => new(change.Lsn, change.Key, change.Deleted, change.ETag, change.ContentType, change.Size);

    public Change ToChange() => new(Lsn, Key, Deleted, ETag, ContentType, Size);
}

internal sealed record PartitionChanges(int Partition, IReadOnlyList<InternalChange> Changes, long Next, bool Expired, bool NotServed);

internal sealed record ChangesResponse(IReadOnlyList<PartitionChanges> Partitions);
