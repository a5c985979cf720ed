using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using AzKv.Cluster;
using AzKv.Keys;
using AzKv.Partitions;
using AzKv.Server.Audit;
using AzKv.Server.Node;
using AzKv.Server.Security;
using AzKv.Server.Snapshots;
using AzKv.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AzKv.Server.Api;

/// <summary>
/// Snapshots (docs/api.md, "Snapshots"): <c>POST /v1/snapshots</c> freezes the key-values its filters select into one
/// immutable blob; <c>GET /v1/snapshots</c>, <c>GET /v1/snapshots/{name}</c>, <c>GET /v1/snapshots/{name}/kv</c> and
/// <c>DELETE /v1/snapshots/{name}</c> read and remove it. The node that receives the POST reads every partition once,
/// each at one LSN (its own state, or its owner's through <c>/v1/internal/partitions/{p}/cut</c>): consistent per
/// partition, and the cut is recorded as one LSN per partition (and a watch cursor made of them).
/// </summary>
internal static class SnapshotEndpoints
{
    /// <summary>Most items a snapshot holds.</summary>
    public const int MaxItems = 100_000;

    /// <summary>Most bytes a snapshot's blob holds.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>At most this many filters.</summary>
    public const int MaxFilters = 3;

    /// <summary>Retention when none is asked for.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    /// <summary>Shortest retention.</summary>
    public static readonly TimeSpan MinRetention = TimeSpan.FromHours(1);

    /// <summary>Longest retention.</summary>
    public static readonly TimeSpan MaxRetention = TimeSpan.FromDays(90);

    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    public static void MapSnapshotEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/snapshots", CreateAsync).WithTags("snapshots").WithName(ApiEndpointNames.CreateSnapshot);
        app.MapGet("/v1/snapshots", ListAsync).WithTags("snapshots").WithName(ApiEndpointNames.ListSnapshots);
        app.MapGet("/v1/snapshots/{name}", GetAsync).WithTags("snapshots").WithName(ApiEndpointNames.GetSnapshot);
        app.MapGet("/v1/snapshots/{name}/kv", ItemsAsync).WithTags("snapshots").WithName(ApiEndpointNames.GetSnapshotItems);
        app.MapDelete("/v1/snapshots/{name}", DeleteAsync).WithTags("snapshots").WithName(ApiEndpointNames.DeleteSnapshot);
        app.MapGet("/v1/internal/partitions/{partition:int}/cut", Cut).WithTags("internal").ExcludeFromDescription();
    }

    /// <summary>Null when <paramref name="name"/> is a valid snapshot name, else why not.</summary>
    internal static string? ValidateName(string? name) =>
        name is { Length: > 0 and <= 128 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') && name[0] != '.'
            ? null
            : "A snapshot name is 1 to 128 characters of letters, digits, '.', '_' and '-', not starting with '.'.";

    /// <summary>The filters, with the null label spelled as null; false with a problem when invalid.</summary>
    internal static bool TryNormalizeFilters(IReadOnlyList<SnapshotFilter>? filters, out List<SnapshotFilter> normalized, out IResult? problem)
    {
        normalized = [];
        problem = null;
        if (filters is null || filters.Count is 0 or > MaxFilters)
        {
            problem = Problems.InvalidSnapshot($"A snapshot has 1 to {MaxFilters} filters, each {{\"prefix\": \"...\", \"label\": \"...\"}}.");
            return false;
        }

        foreach (var filter in filters)
        {
            if (filter?.Prefix is null || (filter.Prefix.Length > 0 && KeyValidation.Validate(filter.Prefix) is { IsValid: false } bad && bad.Error != KeyValidationError.Empty))
            {
                problem = Problems.InvalidSnapshot("Each filter needs a prefix: \"\" (every key) or up to 1024 bytes of UTF-8 without control characters.");
                return false;
            }

            var label = filter.Label is null or "" or LabelQuery.NullLabel ? null : filter.Label;
            if (label is not null && Labels.Validate(label) is { } error)
            {
                problem = Problems.InvalidLabel(label.Contains('*', StringComparison.Ordinal) ? "A snapshot filter names one label (or none for the null label); '*' is not allowed." : error);
                return false;
            }

            normalized.Add(new SnapshotFilter(filter.Prefix) { Label = label });
        }

        return true;
    }

    /// <summary>The retention asked for (0 or null: the default); false with a problem when out of bounds.</summary>
    internal static bool TryGetRetention(long? seconds, out TimeSpan retention, out IResult? problem)
    {
        problem = null;
        retention = seconds is null or 0 ? DefaultRetention : TimeSpan.FromSeconds(Math.Clamp(seconds.Value, -1, (long)MaxRetention.TotalSeconds + 1));
        if (retention < MinRetention || retention > MaxRetention)
        {
            problem = Problems.InvalidSnapshot($"retentionSeconds is from {MinRetention.TotalSeconds:0} (1 hour) to {MaxRetention.TotalSeconds:0} (90 days); 0 or absent is 30 days.");
            return false;
        }

        return true;
    }

    /// <summary>The items of one partition a snapshot's filters select, all read from <paramref name="state"/>: later filters win per key (composition <c>key</c>).</summary>
    internal static PartitionCutResponse CutPartition(int partition, PartitionState state, ConflictPolicies policies, IReadOnlyList<SnapshotFilter> filters, int maxItems)
    {
        var byKey = new Dictionary<string, ListItem>(StringComparer.Ordinal);
        var truncated = false;
        foreach (var filter in filters)
        {
            var labels = new LabelFilter(filter.Label is null ? [] : new HashSet<string>(StringComparer.Ordinal) { filter.Label }, includeNull: filter.Label is null);
            var items = ListEndpoint.ScanPartition(state, policies, filter.Prefix, null, maxItems + 1, includeValues: true, labels);
            truncated |= items.Count > maxItems;
            foreach (var item in items)
            {
                byKey[item.Key] = item;
            }
        }

        truncated |= byKey.Count > maxItems;
        return new PartitionCutResponse(partition, state.Lsn, [.. byKey.Values.OrderBy(i => i.EntryKey, StringComparer.Ordinal)], truncated);
    }

    private static IResult Cut(HttpContext context, NodeSupervisor host, int partition, string? filters, int? max)
    {
        SnapshotFilter[]? parsed = null;
        try
        {
            parsed = filters is null ? null : JsonSerializer.Deserialize(Base64Url.DecodeFromChars(filters), ApiJson.Context.SnapshotFilterArray);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            parsed = null;
        }

        if (!TryNormalizeFilters(parsed, out var normalized, out var problem))
        {
            return problem!;
        }

        if (!InternalEndpoints.TryGetServedState(context, host, partition, out var state, out var notServed))
        {
            return notServed;
        }

        return Results.Json(CutPartition(partition, state, host.ConflictPolicies, normalized, Math.Clamp(max ?? MaxItems, 1, MaxItems)), ApiJson.Context.PartitionCutResponse);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, NodeSupervisor host, Forwarder forwarder, SnapshotStore snapshots)
    {
        CreateSnapshotRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, ApiJson.Context.CreateSnapshotRequest, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            request = null;
        }

        if (request is null)
        {
            return Problems.InvalidSnapshot("The body must be {\"name\": \"...\", \"filters\": [{\"prefix\": \"...\", \"label\": \"...\"}], \"retentionSeconds\": 0}.");
        }

        if (ValidateName(request.Name) is { } badName)
        {
            return Problems.InvalidSnapshot(badName);
        }

        if (!TryNormalizeFilters(request.Filters, out var filters, out var badFilters))
        {
            return badFilters!;
        }

        if (!TryGetRetention(request.RetentionSeconds, out var retention, out var badRetention))
        {
            return badRetention!;
        }

        var principal = AccessControl.PrincipalOf(context) ?? AccessPrincipal.Open;
        if (!filters.All(f => principal.CanAccessPrefix(AccessRole.Writer, f.Prefix)))
        {
            return Denied(context, principal, "snapshot-create", request.Name!, "Creating a snapshot needs the writer role over every key under each of its filter prefixes.");
        }

        if (host.PartitionCount == 0)
        {
            return Problems.Unavailable("The node is starting.");
        }

        var name = request.Name!;
        if (await snapshots.ReadInfoAsync(name, context.RequestAborted).ConfigureAwait(false) is { } existing)
        {
            // An expired snapshot the sweep has not removed yet does not hold its name.
            if (!SnapshotStore.IsExpired(existing, snapshots.Time.GetUtcNow()) || !await snapshots.DeleteAsync(name, existing.ETag!, context.RequestAborted).ConfigureAwait(false))
            {
                return Problems.SnapshotExists(name);
            }
        }

        // One read per partition: its own state at one LSN, here or at its owner.
        var encodedFilters = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(filters.ToArray(), ApiJson.Context.SnapshotFilterArray));
        var cuts = await Task.WhenAll(Enumerable.Range(0, host.PartitionCount).Select(async p =>
        {
            var owner = host.ServingOwner(p);
            if (owner is not null && owner.TryGetState(out var state))
            {
                return CutPartition(p, state, host.ConflictPolicies, filters, MaxItems);
            }

            var query = $"/v1/internal/partitions/{p}/cut?max={MaxItems}&filters={encodedFilters}";
            return await forwarder.GetFromOwnerAsync(p, query, ApiJson.Context.PartitionCutResponse, context.RequestAborted).ConfigureAwait(false);
        })).ConfigureAwait(false);

        var missing = Array.FindIndex(cuts, c => c is null);
        if (missing >= 0)
        {
            return Problems.Unavailable($"Partition {missing} has no serving owner right now.");
        }

        var items = cuts.SelectMany(c => c!.Items).OrderBy(i => i.EntryKey, StringComparer.Ordinal).ToList();
        if (cuts.Any(c => c!.Truncated) || items.Count > MaxItems)
        {
            return Problems.SnapshotTooLarge($"The filters select more than {MaxItems} items.");
        }

        var now = snapshots.Time.GetUtcNow();
        var positions = cuts.Select(c => c!.Lsn).ToArray();
        var info = new SnapshotInfo(
            name,
            "ready",
            "key",
            filters,
            now,
            now + retention,
            (long)retention.TotalSeconds,
            items.Count,
            0,
            "partition",
            [.. cuts.Select(c => new SnapshotPartitionCut(c!.Partition, c.Lsn))])
        {
            CreatedBy = principal.Authenticated ? principal.Subject : null,
            Cursor = host.Cluster is { } cluster ? WatchCursor.Encode(cluster.CursorTag, positions) : null,
        };

        var itemBytes = items.Sum(SnapshotStore.EncodedSize);
        if (itemBytes > MaxBytes)
        {
            return Problems.SnapshotTooLarge($"The selected items take {itemBytes} bytes; a snapshot holds at most {MaxBytes}.");
        }

        // The size is the blob's: the metadata line holds the size, so settle it in two passes (its digits rarely change the length).
        var content = SnapshotStore.Encode(info, items);
        for (var i = 0; i < 3 && info.SizeBytes != content.Length; i++)
        {
            info = info with { SizeBytes = content.Length };
            content = SnapshotStore.Encode(info, items);
        }

        if (!await snapshots.TryCreateAsync(content, info, context.RequestAborted).ConfigureAwait(false))
        {
            return Problems.SnapshotExists(name);
        }

        Record(context, principal, "snapshot-create", name, AuditOutcomes.Created);
        var created = await snapshots.ReadInfoAsync(name, context.RequestAborted).ConfigureAwait(false) ?? info;
        return Results.Json(created, ApiJson.Context.SnapshotInfo, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpContext context, SnapshotStore snapshots, string? limit, string? cursor)
    {
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            return Problems.InvalidRequest($"limit must be a whole number from 1 to {MaxLimit}.");
        }

        var principal = AccessControl.PrincipalOf(context) ?? AccessPrincipal.Open;
        var now = snapshots.Time.GetUtcNow();
        var (items, next) = await snapshots.ListAsync(string.IsNullOrEmpty(cursor) ? null : cursor, pageSize, context.RequestAborted).ConfigureAwait(false);
        var visible = items.Where(i => !SnapshotStore.IsExpired(i, now) && CanRead(principal, i)).ToList();
        return Results.Json(new SnapshotListResponse(visible, next), ApiJson.Context.SnapshotListResponse);
    }

    private static async Task<IResult> GetAsync(HttpContext context, SnapshotStore snapshots, string name)
    {
        var (info, problem) = await ReadableAsync(context, snapshots, name).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        context.Response.Headers.ETag = info!.ETag;
        return Results.Json(info, ApiJson.Context.SnapshotInfo);
    }

    private static async Task<IResult> ItemsAsync(HttpContext context, SnapshotStore snapshots, string name, string? limit, string? cursor, string? values)
    {
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            return Problems.InvalidRequest($"limit must be a whole number from 1 to {MaxLimit}.");
        }

        var includeValues = false;
        if (values is not null && !bool.TryParse(values, out includeValues))
        {
            return Problems.InvalidRequest("values must be true or false.");
        }

        string? after = null;
        if (!string.IsNullOrEmpty(cursor) && (after = ListEndpoint.DecodeCursor(cursor)) is null)
        {
            return Problems.InvalidRequest("cursor is not a cursor this server returned.");
        }

        var (info, problem) = await ReadableAsync(context, snapshots, name).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var content = await snapshots.ReadAsync(name, context.RequestAborted).ConfigureAwait(false);
        if (content is null)
        {
            return Problems.SnapshotNotFound(name);
        }

        var all = content.Items;
        var start = 0;
        if (after is not null)
        {
            // Items are in entry-key order: the page starts strictly after the cursor.
            var (low, high) = (0, all.Count);
            while (low < high)
            {
                var mid = (low + high) / 2;
                if (string.CompareOrdinal(all[mid].EntryKey, after) <= 0)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }

            start = low;
        }

        var page = all.Skip(start).Take(pageSize).Select(i => includeValues ? i : i with { Value = null }).ToList();
        var more = start + page.Count < all.Count;
        context.Response.Headers.ETag = info!.ETag;
        return Results.Json(new ListResponse(page, more ? ListEndpoint.EncodeCursor(page[^1].EntryKey) : null), ApiJson.Context.ListResponse);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, SnapshotStore snapshots, string name)
    {
        if (ValidateName(name) is not null)
        {
            return Problems.SnapshotNotFound(name);
        }

        var info = await snapshots.ReadInfoAsync(name, context.RequestAborted).ConfigureAwait(false);
        if (info is null)
        {
            return Problems.SnapshotNotFound(name);
        }

        var principal = AccessControl.PrincipalOf(context) ?? AccessPrincipal.Open;
        if (!info.Filters.All(f => principal.CanAccessPrefix(AccessRole.Writer, f.Prefix)))
        {
            return Denied(context, principal, "snapshot-delete", name, "Deleting a snapshot needs the writer role over every key under each of its filter prefixes.");
        }

        var ifMatch = context.Request.Headers.IfMatch.ToString();
        if (!string.IsNullOrEmpty(ifMatch) && ifMatch != "*" && ifMatch != info.ETag)
        {
            return Problems.PreconditionFailed("The snapshot's ETag is not the one in If-Match.");
        }

        if (!await snapshots.DeleteAsync(name, info.ETag!, context.RequestAborted).ConfigureAwait(false))
        {
            return Problems.SnapshotNotFound(name);
        }

        Record(context, principal, "snapshot-delete", name, AuditOutcomes.Ok);
        return Results.NoContent();
    }

    /// <summary>The snapshot's metadata when it exists, has not expired and the caller may read it; else the problem.</summary>
    private static async Task<(SnapshotInfo? Info, IResult? Problem)> ReadableAsync(HttpContext context, SnapshotStore snapshots, string name)
    {
        if (ValidateName(name) is not null)
        {
            return (null, Problems.SnapshotNotFound(name));
        }

        var info = await snapshots.ReadInfoAsync(name, context.RequestAborted).ConfigureAwait(false);
        if (info is null)
        {
            return (null, Problems.SnapshotNotFound(name));
        }

        var principal = AccessControl.PrincipalOf(context) ?? AccessPrincipal.Open;
        if (!CanRead(principal, info))
        {
            return (null, Denied(context, principal, "snapshot-read", name, "Reading a snapshot needs the reader role over every key under each of its filter prefixes."));
        }

        return SnapshotStore.IsExpired(info, snapshots.Time.GetUtcNow()) ? (null, Problems.SnapshotExpired(name, info.Expires)) : (info, null);
    }

    private static bool CanRead(AccessPrincipal principal, SnapshotInfo info) => info.Filters.All(f => principal.CanAccessPrefix(AccessRole.Reader, f.Prefix));

    private static IResult Denied(HttpContext context, AccessPrincipal principal, string operation, string name, string detail)
    {
        Record(context, principal, operation, name, AuditOutcomes.Forbidden);
        return Problems.Forbidden(detail);
    }

    private static void Record(HttpContext context, AccessPrincipal principal, string operation, string name, string outcome) =>
        context.RequestServices.GetService<AuditLog>()?.Record(principal.Subject, principal.ClientId, operation, "snapshot:" + name, outcome);
}
