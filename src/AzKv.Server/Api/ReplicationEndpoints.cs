using AzKv.Cluster;
using AzKv.Replication;
using AzKv.Server.Node;
using AzKv.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AzKv.Server.Api;

/// <summary>
/// <c>GET /v1/conflicts</c> (the LWW conflict log of this region) and the operator switches
/// <c>POST /v1/replication/{source}/pause|resume</c> (this node's partitions).
/// </summary>
internal static class ReplicationEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    public static void MapReplicationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/conflicts", ConflictsAsync).WithTags("replication").WithName(ApiEndpointNames.Conflicts);
        app.MapGet("/v1/audit", AuditAsync).WithTags("audit").WithName(ApiEndpointNames.Audit);
        app.MapPost("/v1/replication/{source}/pause", async (string source, NodeSupervisor host, HttpContext context) => Switch(await host.PauseReplicationAsync(source, context.RequestAborted).ConfigureAwait(false), source))
            .WithTags("replication").WithName(ApiEndpointNames.PauseReplication);
        app.MapPost("/v1/replication/{source}/resume", (string source, NodeSupervisor host) => Switch(host.ResumeReplication(source), source))
            .WithTags("replication").WithName(ApiEndpointNames.ResumeReplication);
    }

    private static async Task<IResult> ConflictsAsync(HttpContext context, IBlobStore store)
    {
        var query = context.Request.Query;
        var prefix = query["prefix"].ToString();
        if (ReadLimit(query, out var limit) is { } invalidLimit)
        {
            return invalidLimit;
        }

        var entries = await ConflictLog.ReadAsync(store, prefix, limit, context.RequestAborted).ConfigureAwait(false);
        var items = entries.Select(e => new ConflictItem(e.Key, e.Detected, e.Region, ToApi(e.Winner), ToApi(e.Loser))).ToList();
        return Results.Json(new ConflictsResponse(items), ApiJson.Context.ConflictsResponse);
    }

    /// <summary>GET /v1/audit?prefix=&amp;since=&amp;limit=&amp;cursor= (docs/api.md, docs/security.md "Audit").</summary>
    private static async Task<IResult> AuditAsync(HttpContext context, Audit.AuditLog audit, TimeProvider time)
    {
        var query = context.Request.Query;
        var prefix = query["prefix"].ToString();
        if (ReadLimit(query, out var limit) is { } invalidLimit)
        {
            return invalidLimit;
        }

        var since = time.GetUtcNow() - TimeSpan.FromHours(24);
        if (query.TryGetValue("since", out var sinceText)
            && !DateTimeOffset.TryParse(sinceText, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out since))
        {
            return Problems.InvalidRequest("since must be an RFC 3339 time, e.g. 2026-12-06T00:00:00Z.");
        }

        Audit.AuditCursor? cursor = null;
        if (query.TryGetValue("cursor", out var cursorText) && !Audit.AuditCursor.TryParse(cursorText.ToString(), out cursor))
        {
            return Problems.InvalidRequest("cursor is not one this endpoint returned.");
        }

        var page = await audit.ReadAsync(prefix, since, limit, cursor, context.RequestAborted).ConfigureAwait(false);
        var items = page.Items.Select(e => new AuditItem(e.Time, e.Principal, e.ClientId, e.Operation, e.Key, e.Outcome, e.Node)).ToList();
        return Results.Json(new AuditResponse(items, page.Cursor), ApiJson.Context.AuditResponse);
    }

    private static ConflictVersionItem ToApi(ConflictVersion version) => new(version.Region, version.Counter, version.Hlc, version.Tombstone)
    {
        ContentType = version.ContentType,
        Value = version.Value is null ? null : Convert.ToBase64String(version.Value),
    };

    private static IResult Switch(bool known, string source) => known
        ? Results.NoContent()
        : Problems.UnknownRegion($"This node does not replicate from a region named '{source}' (AzKv__Peers).");

    /// <summary>The <c>limit</c> parameter (<see cref="DefaultLimit"/> when absent), or the problem when it is not an integer from 1 to <see cref="MaxLimit"/>.</summary>
    private static IResult? ReadLimit(IQueryCollection query, out int limit)
    {
        limit = DefaultLimit;
        return query.TryGetValue("limit", out var text)
            && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit)
            ? Problems.InvalidRequest($"limit must be an integer from 1 to {MaxLimit}.")
            : null;
    }
}
