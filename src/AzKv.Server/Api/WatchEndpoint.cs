using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text.Json;
using AzKv.Cluster;
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
    private static readonly TimeSpan KeepAliveInterval = WatchFanouts.KeepAliveInterval;

    public static void MapWatchEndpoint(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/watch", WatchAsync).WithTags("watch").WithName(ApiEndpointNames.Watch);

    private static async Task<IResult> WatchAsync(
        HttpContext context, NodeSupervisor host, Forwarder forwarder, WatchFanouts fanouts, IHostApplicationLifetime lifetime, string? prefix, string? cursor, string? timeout, string? label)
    {
        prefix ??= string.Empty;
        if (!LabelQuery.TryGetFilter(label, out var filter, out var badLabel))
        {
            return badLabel!;
        }

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
            // A node that serves every partition itself streams through its fan-out (each change
            // encoded once for all streams); otherwise each stream polls the owners on its own.
            var feeds = host.Slots.Select(s => s.Feed).ToArray();
            if (filter.IsAny && fanouts.For(host) is { } fanout && positions.Select((lsn, p) => lsn <= feeds[p].LastLsn).All(known => known))
            {
                if (string.IsNullOrEmpty(cursor))
                {
                    // From now: the fan-out's position is now as well as any, and joins at once.
                    positions = fanout.Positions;
                }

                await StreamFromFanoutAsync(context, fanout, feeds, prefix, storeTag, positions, stopping.Token).ConfigureAwait(false);
            }
            else
            {
                await StreamAsync(context, host, forwarder, prefix, filter, storeTag, positions, stopping.Token).ConfigureAwait(false);
            }

            return Results.Empty;
        }

        var changes = new List<WatchChange>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        deadline.CancelAfter(wait);
        while (true)
        {
            var collected = await CollectAsync(host, forwarder, prefix, filter, positions, changes, null, context.RequestAborted).ConfigureAwait(false);
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
        HttpContext context, NodeSupervisor host, Forwarder forwarder, string prefix, LabelFilter filter, ulong storeTag, long[] positions, CancellationToken aborted)
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
                var collected = await CollectAsync(host, forwarder, prefix, filter, positions, changes, origins, aborted).ConfigureAwait(false);
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

    /// <summary>How long a stream that left the fan-out waits for its client to take what is buffered before the connection is aborted.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// SSE through the node's fan-out: catch up from the change feeds to the fan-out's position, join
    /// it, and wait; the fan-out writes the events. When it lets the stream go (a slow reader, a
    /// partition moved, the node stopping) the stream ends with a <c>resume</c> event whose id is the
    /// cursor to reconnect with.
    /// </summary>
    private static async Task StreamFromFanoutAsync(
        HttpContext context, WatchFanout fanout, IReadOnlyList<ChangeFeed> feeds, string prefix, ulong storeTag, long[] positions, CancellationToken aborted)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var writer = response.BodyWriter;
        await writer.FlushAsync(aborted).ConfigureAwait(false);
        WatchFanout.Subscription? subscription;
        try
        {
            while (!fanout.TryJoin(prefix, positions, writer, out subscription, out var target))
            {
                if (IsAheadAnywhere(positions, target))
                {
                    // The feed holds changes the fan-out has not handled yet: it is about to.
                    await Task.Delay(TimeSpan.FromMilliseconds(10), aborted).ConfigureAwait(false);
                    continue;
                }

                var before = (long[])positions.Clone();
                if (!CatchUp(feeds, prefix, storeTag, positions, target, writer))
                {
                    writer.Write(WatchFanout.ExpiredFrame());
                    await writer.FlushAsync(aborted).ConfigureAwait(false);
                    return;
                }

                await writer.FlushAsync(aborted).ConfigureAwait(false);
                if (positions.AsSpan().SequenceEqual(before))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), aborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        using (subscription)
        {
            WatchFanout.Ending ending;
            try
            {
                ending = await subscription!.Ended.WaitAsync(aborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client went away, or the node is stopping: a stopping node tells the client where to resume.
                var cursor = subscription!.Leave();
                if (!context.RequestAborted.IsCancellationRequested && cursor is not null)
                {
                    await TryWriteAsync(writer, WatchFanout.ResumeFrame(cursor, WatchFanout.EndReason.Stopping), context.RequestAborted).ConfigureAwait(false);
                }

                return;
            }

            if (ending.PendingFlush is { } pending)
            {
                try
                {
                    await pending.WaitAsync(DrainTimeout, context.RequestAborted).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    context.Abort();
                    return;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var last = ending.Reason == WatchFanout.EndReason.Expired ? WatchFanout.ExpiredFrame() : WatchFanout.ResumeFrame(ending.Cursor, ending.Reason);
            await TryWriteAsync(writer, last, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static bool IsAheadAnywhere(long[] positions, long[] target)
    {
        for (var p = 0; p < positions.Length; p++)
        {
            if (positions[p] > target[p])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the changes under the prefix after <paramref name="positions"/> up to (never past)
    /// <paramref name="target"/>, each with its own cursor, and moves the positions there. False
    /// when the feed no longer holds them (the cursor expired).
    /// </summary>
    private static bool CatchUp(IReadOnlyList<ChangeFeed> feeds, string prefix, ulong storeTag, long[] positions, long[] target, System.IO.Pipelines.PipeWriter writer)
    {
        var buffer = new List<Change>();
        for (var p = 0; p < feeds.Count; p++)
        {
            while (positions[p] < target[p])
            {
                buffer.Clear();
                if (!feeds[p].TryRead(positions[p], prefix, MaxChangesPerResponse, buffer, out var next))
                {
                    return false;
                }

                foreach (var change in buffer)
                {
                    if (change.Lsn > target[p])
                    {
                        break;
                    }

                    positions[p] = change.Lsn;
                    writer.Write(WatchFanout.ChangeFrame(change, WatchCursor.Encode(storeTag, positions)));
                }

                var reached = Math.Min(next, target[p]);
                if (reached <= positions[p] && buffer.Count == 0)
                {
                    break; // nothing more to read yet; the caller tries again
                }

                positions[p] = Math.Max(positions[p], reached);
            }
        }

        return true;
    }

    private static async Task TryWriteAsync(System.IO.Pipelines.PipeWriter writer, byte[] frame, CancellationToken cancellationToken)
    {
        try
        {
            await writer.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The connection is gone: nothing more to tell it.
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
        NodeSupervisor host, Forwarder forwarder, string prefix, LabelFilter filter, long[] positions, List<WatchChange> output, List<(int Partition, long Lsn)>? origins, CancellationToken cancellationToken)
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
                if (!filter.MatchesEntry(change.Key))
                {
                    continue; // the position still moves past it
                }

                origins?.Add((p, change.Lsn));
                output.Add(WatchChange.For(change));
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
    private static async Task<bool> StartFromNowAsync(NodeSupervisor host, Forwarder forwarder, long[] positions, CancellationToken cancellationToken)
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

    private static Task WaitForAnyAsync(NodeSupervisor host, long[] positions, bool pollRemote, CancellationToken cancellationToken)
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
