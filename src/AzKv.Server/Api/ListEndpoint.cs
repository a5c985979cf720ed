using System.Buffers.Text;
using System.Text;
using AzKv.Cluster;
using AzKv.Keys;
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
        app.MapGet("/v1/kv", List).WithTags("kv").WithName(ApiEndpointNames.ListKeys);

    private static async Task<IResult> List(
        HttpContext context, NodeSupervisor host, Forwarder forwarder, string? prefix, string? limit, string? cursor, string? values, string? label)
    {
        if (context.Request.Path.Value?.EndsWith('/') == true)
        {
            return Problems.InvalidKey("The key is empty: a key is 1 to 1024 bytes (to list keys, use /v1/kv without a trailing slash).");
        }

        prefix ??= string.Empty;
        if (!LabelQuery.TryGetFilter(label, out var filter, out var badLabel))
        {
            return badLabel!;
        }

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

        // Each partition contributes its next pageSize + 1 visible keys after the cursor: from its
        // snapshot when served here, from its owner otherwise. Then a k-way merge.
        var sources = await Task.WhenAll(Enumerable.Range(0, host.PartitionCount).Select(async p =>
        {
            var owner = host.ServingOwner(p);
            if (owner is not null && owner.TryGetState(out var state))
            {
                return ScanPartition(state, host.ConflictPolicies, prefix, after, pageSize + 1, includeValues, filter);
            }

            var query = $"/v1/internal/partitions/{p}/keys?prefix={Uri.EscapeDataString(prefix)}&limit={pageSize + 1}&values={(includeValues ? "true" : "false")}"
                + (after is null ? string.Empty : "&after=" + Uri.EscapeDataString(after))
                + (label is null ? string.Empty : "&label=" + Uri.EscapeDataString(label));
            return (await forwarder.GetFromOwnerAsync(p, query, ApiJson.Context.PartitionKeysResponse, context.RequestAborted).ConfigureAwait(false))?.Items;
        })).ConfigureAwait(false);

        var missing = Array.FindIndex(sources, s => s is null);
        if (missing >= 0)
        {
            return Problems.Unavailable($"Partition {missing} has no serving owner right now.");
        }

        var queue = new PriorityQueue<(int Source, int Index), string>(StringComparer.Ordinal);
        for (var p = 0; p < sources.Length; p++)
        {
            if (sources[p]!.Count > 0)
            {
                queue.Enqueue((p, 0), sources[p]![0].EntryKey);
            }
        }

        var items = new List<ListItem>(Math.Min(pageSize, 128));
        var more = false;
        while (queue.TryDequeue(out var position, out _))
        {
            if (items.Count == pageSize)
            {
                more = true;
                break;
            }

            var source = sources[position.Source]!;
            items.Add(source[position.Index]);
            if (position.Index + 1 < source.Count)
            {
                queue.Enqueue((position.Source, position.Index + 1), source[position.Index + 1].EntryKey);
            }
        }

        return Results.Json(new ListResponse(items, more ? EncodeCursor(items[^1].EntryKey) : null), ApiJson.Context.ListResponse);
    }

    /// <summary>Up to <paramref name="limit"/> visible keys of one partition under the prefix, strictly after <paramref name="after"/>.</summary>
    internal static List<ListItem> ScanPartition(PartitionState state, ConflictPolicies policies, string prefix, string? after, int limit, bool includeValues, LabelFilter filter)
    {
        var exclusive = after is not null && string.CompareOrdinal(after, prefix) >= 0;
        var start = exclusive ? after! : prefix;
        var keys = state.SortedKeys;
        var index = Array.BinarySearch(keys, start, StringComparer.Ordinal);
        index = index >= 0 ? (exclusive ? index + 1 : index) : ~index;
        var items = new List<ListItem>();
        for (; index < keys.Length && items.Count < limit; index++)
        {
            var key = keys[index];
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }

            // Keys hold one entry per label (key U+0000 label): the filter picks which are listed.
            var label = Labels.LabelOf(key);
            if (!filter.Matches(label))
            {
                continue;
            }

            // The one read model: listed exactly when GET shows it (a value or siblings).
            var set = state.Get(key)!;
            var view = set.View(policies.For(key));
            if (view.Value is not { } winner)
            {
                continue;
            }

            items.Add(new ListItem(Labels.KeyOf(key), set.Context.ToETag(), winner.ContentType, winner.Value.Length)
            {
                Label = label,
                Value = includeValues ? Convert.ToBase64String(winner.Value.Span) : null,
                Versions = view.Kind == ReadViewKind.Siblings ? view.Siblings.Length : null,
            });
        }

        return items;
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
