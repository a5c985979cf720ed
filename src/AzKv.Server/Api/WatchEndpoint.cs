using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text.Json;
using AzKv.Partitions;
using AzKv.Server.Node;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace AzKv.Server.Api;

/// <summary>
/// <c>GET /v1/watch</c>: changes after a cursor, as a long poll or a server-sent-event stream.
/// The cursor (<see cref="WatchCursor"/>) is the LSN reached in every partition of this store, so
/// chaining cursors never misses a change; a cursor of another store is refused (410).
/// </summary>
internal static class WatchEndpoint
{
    private const int MaxChangesPerResponse = 1000;
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    public static void MapWatchEndpoint(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/watch", WatchAsync).WithTags("watch").WithName(ApiEndpointNames.Watch);

    private static async Task<IResult> WatchAsync(
        HttpContext context, PartitionHost host, Forwarder forwarder, IHostApplicationLifetime lifetime, string? prefix, string? cursor, string? timeout)
    {
        prefix ??= string.Empty;
        var wait = TimeSpan.FromSeconds(30);
        if (timeout is not null)
        {
            if (!int.TryParse(timeout, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds > 120)
            {
                return Problems.InvalidRequest("timeout must be a whole number of seconds from 0 to 120.");
            }

            wait = TimeSpan.FromSeconds(seconds);
        }

        if (host.PartitionCount == 0 || host.Cluster is not { } cluster)
        {
            return Problems.Unavailable("The node is starting.");
        }

        var storeTag = cluster.CursorTag;

        cursor ??= context.Request.Headers["Last-Event-ID"].ToString();
        long[] positions;
        if (string.IsNullOrEmpty(cursor))
        {
            positions = host.Slots.Select(s => s.Feed.LastLsn).ToArray();
            if (!await StartFromNowAsync(host, forwarder, positions, context.RequestAborted).ConfigureAwait(false))
            {
                return Problems.Unavailable("Some partitions have no live owner to start watching from.");
            }
        }
        else
        {
            switch (WatchCursor.TryDecode(cursor, storeTag, host.PartitionCount, out positions))
            {
                case WatchCursor.DecodeResult.Malformed:
                    return Problems.InvalidRequest("cursor is not a watch cursor.");
                case WatchCursor.DecodeResult.Foreign:
                    return Problems.CursorForeign(cluster.Region);
                default:
                    break;
            }
        }

        // A stopping node ends its long polls and streams at once (with the cursor reached), so
        // shutdown is not held up and partitions are handed over promptly; clients resume elsewhere.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var streaming = context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
        if (streaming)
        {
            await StreamAsync(context, host, forwarder, prefix, storeTag, positions, stopping.Token).ConfigureAwait(false);
            return Results.Empty;
        }

        var changes = new List<WatchChange>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        deadline.CancelAfter(wait);
        while (true)
        {
            var collected = await CollectAsync(host, forwarder, prefix, positions, changes, null, context.RequestAborted).ConfigureAwait(false);
            if (collected == CollectOutcome.Expired)
            {
                return Problems.CursorExpired();
            }

            if (changes.Count > 0 || deadline.IsCancellationRequested)
            {
                return Results.Json(new WatchResponse(changes, WatchCursor.Encode(storeTag, positions)), ApiJson.Context.WatchResponse);
            }

            try
            {
                await WaitForAnyAsync(host, positions, collected == CollectOutcome.PolledRemote, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                // Timed out: answer with no changes.
            }
        }
    }

    private static async Task StreamAsync(
        HttpContext context, PartitionHost host, Forwarder forwarder, string prefix, ulong storeTag, long[] positions, CancellationToken aborted)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var changes = new List<WatchChange>();
        var origins = new List<(int Partition, long Lsn)>();
        await response.Body.FlushAsync(aborted).ConfigureAwait(false);
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                // Each event's id is the cursor right after that event, so a client that resumes
                // from the last id it saw gets exactly the events it missed.
                var eventCursor = (long[])positions.Clone();
                var collected = await CollectAsync(host, forwarder, prefix, positions, changes, origins, aborted).ConfigureAwait(false);
                if (collected == CollectOutcome.Expired)
                {
                    await response.WriteAsync("event: error\ndata: {\"type\":\"" + Problems.TypeBase + "cursor-expired\"}\n\n", aborted).ConfigureAwait(false);
                    return;
                }

                for (var i = 0; i < changes.Count; i++)
                {
                    eventCursor[origins[i].Partition] = origins[i].Lsn;
                    var json = JsonSerializer.Serialize(changes[i], ApiJson.Context.WatchChange);
                    await response.WriteAsync($"event: change\nid: {WatchCursor.Encode(storeTag, eventCursor)}\ndata: {json}\n\n", aborted).ConfigureAwait(false);
                }

                if (changes.Count > 0)
                {
                    await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                    changes.Clear();
                    origins.Clear();
                    continue;
                }

                using var keepAlive = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                keepAlive.CancelAfter(KeepAliveInterval);
                try
                {
                    await WaitForAnyAsync(host, positions, collected == CollectOutcome.PolledRemote, keepAlive.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted).ConfigureAwait(false);
                    await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                }

            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private enum CollectOutcome
    {
        Local,
        PolledRemote,
        Expired,
    }

    /// <summary>
    /// Moves <paramref name="positions"/> past every retained change and adds the ones under the
    /// prefix to <paramref name="output"/> (bounded), partition by partition in order. Partitions
    /// served elsewhere are read from their owners, one request per owner node.
    /// </summary>
    private static async Task<CollectOutcome> CollectAsync(
        PartitionHost host, Forwarder forwarder, string prefix, long[] positions, List<WatchChange> output, List<(int Partition, long Lsn)>? origins, CancellationToken cancellationToken)
    {
        var slots = host.Slots;
        var perPartition = new List<Change>?[slots.Length];
        var remote = new List<int>();
        var buffer = new List<Change>();
        var budget = MaxChangesPerResponse;
        for (var p = 0; p < slots.Length; p++)
        {
            if (host.ServingOwner(p) is null)
            {
                remote.Add(p);
                continue;
            }

            buffer.Clear();
            if (!slots[p].Feed.TryRead(positions[p], prefix, budget, buffer, out var next))
            {
                return CollectOutcome.Expired;
            }

            budget -= buffer.Count;
            perPartition[p] = [.. buffer];
            positions[p] = buffer.Count > 0 && budget <= 0 ? buffer[^1].Lsn : next;
        }

        if (remote.Count > 0 && !await CollectRemoteAsync(forwarder, remote, prefix, positions, perPartition, cancellationToken).ConfigureAwait(false))
        {
            return CollectOutcome.Expired;
        }

        for (var p = 0; p < slots.Length; p++)
        {
            foreach (var change in perPartition[p] ?? [])
            {
                origins?.Add((p, change.Lsn));
                output.Add(change.Deleted
                    ? new WatchChange(change.Key, "delete") { ETag = change.ETag }
                    : new WatchChange(change.Key, "put") { ETag = change.ETag, ContentType = change.ContentType, Size = change.Size });
            }
        }

        return remote.Count > 0 ? CollectOutcome.PolledRemote : CollectOutcome.Local;
    }

    private static async Task<bool> CollectRemoteAsync(
        Forwarder forwarder, List<int> partitions, string prefix, long[] positions, List<Change>?[] perPartition, CancellationToken cancellationToken)
    {
        var byOwner = new Dictionary<Uri, List<int>>();
        foreach (var p in partitions)
        {
            if (await forwarder.ResolveOwnerAsync(p, refresh: false, cancellationToken).ConfigureAwait(false) is { } owner)
            {
                (byOwner.TryGetValue(owner, out var list) ? list : byOwner[owner] = []).Add(p);
            }
        }

        var answers = await Task.WhenAll(byOwner.Select(async entry =>
        {
            var query = "/v1/internal/changes?prefix=" + Uri.EscapeDataString(prefix) + "&positions="
                + string.Join(',', entry.Value.Select(p => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p}:{positions[p]}")));
            return await forwarder.GetAsync(new Uri(entry.Key, query), ApiJson.Context.ChangesResponse, cancellationToken).ConfigureAwait(false);
        })).ConfigureAwait(false);

        foreach (var answer in answers)
        {
            foreach (var partition in answer?.Partitions ?? [])
            {
                if (partition.Expired)
                {
                    return false;
                }

                if (partition.NotServed)
                {
                    forwarder.Forget(partition.Partition);
                    continue;
                }

                perPartition[partition.Partition] = partition.Changes.Select(c => c.ToChange()).ToList();
                positions[partition.Partition] = partition.Next;
            }
        }

        return true;
    }

    /// <summary>Sets the positions of partitions served elsewhere to their owners' newest LSN.</summary>
    private static async Task<bool> StartFromNowAsync(PartitionHost host, Forwarder forwarder, long[] positions, CancellationToken cancellationToken)
    {
        for (var p = 0; p < positions.Length; p++)
        {
            if (host.ServingOwner(p) is not null)
            {
                continue;
            }

            var answer = await forwarder.GetFromOwnerAsync(
                p, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/v1/internal/changes?positions={p}:now&limit=1"), ApiJson.Context.ChangesResponse, cancellationToken)
                .ConfigureAwait(false);
            var result = answer?.Partitions.FirstOrDefault();
            if (result is null || result.NotServed)
            {
                return false;
            }

            positions[p] = result.Next;
        }

        return true;
    }

    private static Task WaitForAnyAsync(PartitionHost host, long[] positions, bool pollRemote, CancellationToken cancellationToken)
    {
        var slots = host.Slots;
        var waits = new List<Task>(slots.Length + 1);
        for (var p = 0; p < slots.Length; p++)
        {
            if (host.ServingOwner(p) is not null)
            {
                waits.Add(slots[p].Feed.WaitAfterAsync(positions[p], cancellationToken));
            }
        }

        if (pollRemote || waits.Count == 0)
        {
            // Partitions served elsewhere are polled: their owners do not push to us.
            waits.Add(Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken));
        }

        return Task.WhenAny(waits).Unwrap();
    }
}
