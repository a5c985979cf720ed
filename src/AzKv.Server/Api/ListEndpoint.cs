using System.Buffers.Text;
using System.Text;
using AzKv.Partitions;
using AzKv.Server.Node;
using AzKv.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary>
/// <c>GET /v1/kv?prefix=&amp;limit=&amp;cursor=&amp;values=</c>: keys in ordinal order across every
/// partition. The cursor is the last key returned, so a page always starts strictly after it: a key
/// that exists for the whole listing is neither skipped nor repeated, whatever is written meanwhile.
/// </summary>
internal static class ListEndpoint
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    public static void MapListEndpoint(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/kv", List).WithTags("kv").WithName("ListKeys");

    private static IResult List(HttpContext context, PartitionHost host, string? prefix, string? limit, string? cursor, string? values)
    {
        prefix ??= string.Empty;
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            return Problems.InvalidRequest($"limit must be a whole number from 1 to {MaxLimit}.");
        }

        var includeValues = false;
        if (values is not null && !bool.TryParse(values, out includeValues))
        {
            return Problems.InvalidRequest("values must be true or false.");
        }

        string? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            after = DecodeCursor(cursor);
            if (after is null)
            {
                return Problems.InvalidRequest("cursor is not a cursor this server returned.");
            }
        }

        if (host.PartitionCount == 0)
        {
            return Problems.Unavailable("The node is starting.");
        }

        // One consistent snapshot per partition; every partition must be served here.
        var snapshots = new PartitionState[host.PartitionCount];
        for (var p = 0; p < snapshots.Length; p++)
        {
            var owner = host.ServingOwner(p);
            if (owner is null || !owner.TryGetState(out snapshots[p]))
            {
                return Problems.Unavailable($"Partition {p} has no serving owner yet.");
            }
        }

        var start = after is not null && string.CompareOrdinal(after, prefix) >= 0 ? after : prefix;
        var exclusive = after is not null && string.CompareOrdinal(after, prefix) >= 0;
        var queue = new PriorityQueue<(int Partition, int Index), string>(StringComparer.Ordinal);
        for (var p = 0; p < snapshots.Length; p++)
        {
            var keys = snapshots[p].SortedKeys;
            var index = Array.BinarySearch(keys, start, StringComparer.Ordinal);
            index = index >= 0 ? (exclusive ? index + 1 : index) : ~index;
            if (index < keys.Length)
            {
                queue.Enqueue((p, index), keys[index]);
            }
        }

        var items = new List<ListItem>(Math.Min(pageSize, 128));
        string? last = null;
        var more = false;
        while (queue.TryDequeue(out var position, out var key))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue; // past the prefix range in this partition: stop scanning it
            }

            var keys = snapshots[position.Partition].SortedKeys;
            if (position.Index + 1 < keys.Length)
            {
                queue.Enqueue((position.Partition, position.Index + 1), keys[position.Index + 1]);
            }

            var set = snapshots[position.Partition].Get(key)!;
            if (set.IsDeleted(ConflictPolicy.Lww))
            {
                continue;
            }

            if (items.Count == pageSize)
            {
                more = true;
                break;
            }

            var winner = set.Winner!;
            items.Add(new ListItem(key, set.Context.ToETag(), winner.ContentType, winner.Value.Length)
            {
                Value = includeValues ? Convert.ToBase64String(winner.Value.Span) : null,
            });
            last = key;
        }

        return Results.Json(new ListResponse(items, more && last is not null ? EncodeCursor(last) : null), ApiJson.Context.ListResponse);
    }

    internal static string EncodeCursor(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    internal static string? DecodeCursor(string cursor)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            return null;
        }
    }
}
