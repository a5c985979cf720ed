using System.Collections.Concurrent;
using System.Net;
using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Server.Api;
using AzKv.Storage;
using Microsoft.AspNetCore.Http;

namespace AzKv.Server.Node;

/// <summary>
/// Sends a request for a partition this node does not serve to the node that does, at most once:
/// the forwarded request carries <see cref="LoopGuardHeader"/>, and a node that receives a
/// forwarded request for a partition it does not serve answers 503 <c>not-owner</c> instead of
/// forwarding again. Owners are found from the partition's manifest (the owner the last takeover
/// recorded), cached and refreshed on a not-owner answer, falling back to the ring.
/// Connections are pooled; bodies are streamed both ways.
/// </summary>
internal sealed class Forwarder : IDisposable
{
    public const string LoopGuardHeader = "X-AzKv-Forwarded-By";
    public const string NotOwnerHeader = "X-AzKv-Not-Owner";

    private static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(10);

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    };

    /// <summary>
    /// Trace context headers. While a span is current, HttpClient writes them for the forwarding
    /// span itself (the owner's span becomes its child, docs/observability.md); copying the caller's
    /// as well would send two <c>traceparent</c> values.
    /// </summary>
    private static readonly HashSet<string> TraceContext = new(StringComparer.OrdinalIgnoreCase)
    {
        "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context",
    };

    private readonly NodeSupervisor _host;
    private readonly ManifestStore _manifests;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<int, (Uri Endpoint, long Expires)> _owners = new();
    private readonly Security.NodeCredential _credential;

    public Forwarder(NodeSupervisor host, IBlobStore store, TimeProvider time, Security.NodeCredential credential, Hosting.ServerOptions options)
    {
        _host = host;
        _credential = credential;
        _manifests = new ManifestStore(store);
        _time = time;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = 512,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };

        // Owners that serve https with a private CA (azkv up --https): trust it, and only it, for node-to-node calls.
        if (options.Tls.LoadTrustedRoots() is { } roots)
        {
            AzKv.Client.Http.CustomRootTrust.Apply(handler, roots);
        }

        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan, // long polls; the caller's abort cancels
        };
    }

    /// <summary>True when this request was already forwarded once.</summary>
    public static bool WasForwarded(HttpContext context) => context.Request.Headers.ContainsKey(LoopGuardHeader);

    /// <summary>Forwards the request to the owner of <paramref name="partition"/> and copies its answer back.</summary>
    public async Task ForwardAsync(HttpContext context, int partition)
    {
        if (WasForwarded(context))
        {
            context.Response.Headers[NotOwnerHeader] = "1";
            await Problems.Unavailable($"This node does not serve partition {partition} (the request was already forwarded once).").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        System.Diagnostics.Activity.Current?.SetTag("azkv.partition", partition);

        // A body can be sent once; requests without one may be retried at a refreshed owner.
        var hasBody = context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0;
        var read = IsRead(context);
        var keyed = context.Request.Headers.ContainsKey(Api.KvEndpoints.IdempotencyKeyHeader);
        var writeMayHaveArrived = false;
        for (var attempt = 0; ; attempt++)
        {
            var target = await ResolveAsync(partition, refresh: attempt > 0, context.RequestAborted).ConfigureAwait(false);
            if (target is null)
            {
                await (writeMayHaveArrived
                    ? Problems.OutcomeUnknown($"Partition {partition} has no live owner right now, and the owner a first attempt went to did not answer it.")
                    : Problems.Unavailable($"Partition {partition} has no live owner right now.")).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            using var request = CreateRequest(context, target, hasBody);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                Invalidate(partition);
                switch (AfterSendFailure(read, hasBody, keyed, attempt))
                {
                    case SendFailureAction.Retry:
                        writeMayHaveArrived |= !read;
                        continue;
                    case SendFailureAction.OutcomeUnknown:
                        await Problems.OutcomeUnknown($"The owner of partition {partition} did not answer a write that was sent to it: {ex.Message}").ExecuteAsync(context).ConfigureAwait(false);
                        return;
                    default:
                        await Problems.Unavailable($"The owner of partition {partition} could not be reached: {ex.Message}").ExecuteAsync(context).ConfigureAwait(false);
                        return;
                }
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.Contains(NotOwnerHeader))
                {
                    Invalidate(partition);
                    if (!hasBody && attempt == 0)
                    {
                        continue;
                    }
                }

                if (writeMayHaveArrived && response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    // This attempt did nothing, but the first one may have: not a no-op.
                    await Problems.OutcomeUnknown($"Partition {partition}'s owner cannot take the write now, and the owner a first attempt went to did not answer it.").ExecuteAsync(context).ConfigureAwait(false);
                    return;
                }

                await CopyResponseAsync(context, response).ConfigureAwait(false);
                return;
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private static bool IsRead(HttpContext context) => HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    /// <summary>What to do when sending a request to the owner failed.</summary>
    /// <remarks>
    /// A failed send never proves the owner did not see the request, not even "connection refused":
    /// SocketsHttpHandler re-sends a request whose reused connection closed before any answer, so an
    /// owner that read a write and was then killed shows up as a refused reconnect. So a write is
    /// retried at a refreshed owner only when it has no body (a body is streamed once) and carries an
    /// Idempotency-Key (the new owner answers a repeat with the first attempt's outcome); otherwise its
    /// outcome is unknown (504), never "not applied" (503). A read is retried once, then 503.
    /// </remarks>
    internal static SendFailureAction AfterSendFailure(bool read, bool hasBody, bool hasIdempotencyKey, int attempt) =>
        attempt > 0 ? (read ? SendFailureAction.Unavailable : SendFailureAction.OutcomeUnknown)
        : read ? SendFailureAction.Retry
        : !hasBody && hasIdempotencyKey ? SendFailureAction.Retry
        : SendFailureAction.OutcomeUnknown;

    /// <summary>The endpoint of the node serving <paramref name="partition"/>, or null when none is live.</summary>
    public Task<Uri?> ResolveOwnerAsync(int partition, bool refresh, CancellationToken cancellationToken) =>
        ResolveAsync(partition, refresh, cancellationToken);

    /// <summary>Forgets the cached owner of a partition (it answered "not owner").</summary>
    public void Forget(int partition) => Invalidate(partition);

    /// <summary>
    /// GETs an internal endpoint of the node serving <paramref name="partition"/>, retrying once at a
    /// refreshed owner after a not-owner answer. Null when no owner answered successfully.
    /// </summary>
    public async Task<T?> GetFromOwnerAsync<T>(int partition, string pathAndQuery, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var target = await ResolveAsync(partition, refresh: attempt > 0, cancellationToken).ConfigureAwait(false);
            if (target is null)
            {
                return null;
            }

            var result = await GetAsync(new Uri(target, pathAndQuery), type, cancellationToken).ConfigureAwait(false);
            if (result is not null)
            {
                return result;
            }

            Invalidate(partition);
        }

        return null;
    }

    /// <summary>GETs an internal endpoint of another node; null on any failure or not-owner answer.</summary>
    public Task<T?> GetAsync<T>(Uri url, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class => SendInternalAsync(HttpMethod.Get, url, type, cancellationToken);

    /// <summary>POSTs (no body) to an internal endpoint of another node; null on any failure or not-owner answer.</summary>
    public Task<T?> PostAsync<T>(Uri url, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class => SendInternalAsync(HttpMethod.Post, url, type, cancellationToken);

    private async Task<T?> SendInternalAsync<T>(HttpMethod method, Uri url, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        using var request = new HttpRequestMessage(method, url) { Version = HttpVersion.Version11 };
        request.Headers.TryAddWithoutValidation(LoopGuardHeader, _host.Node.NodeId);
        try
        {
            // Node-to-node: this node's own identity, never a caller's token.
            if (await _credential.GetTokenAsync(cancellationToken).ConfigureAwait(false) is { } token)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await System.Text.Json.JsonSerializer.DeserializeAsync(body, type, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or Azure.Identity.AuthenticationFailedException)
        {
            return null;
        }
    }

    private void Invalidate(int partition) => _owners.TryRemove(partition, out _);

    private async Task<Uri?> ResolveAsync(int partition, bool refresh, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (!refresh && _owners.TryGetValue(partition, out var cached) && cached.Expires > now)
        {
            return cached.Endpoint;
        }

        var view = _host.Members;
        string? endpoint = null;
        var recorded = (await _manifests.ReadAsync(partition, cancellationToken).ConfigureAwait(false))?.Manifest.Owner;
        if (recorded is not null && recorded.NodeId != _host.Node.NodeId && view?.Find(recorded.NodeId) is { } live)
        {
            endpoint = live.Endpoint;
        }
        else if (_host.Ring?.Owners[partition] is { } ringOwner && ringOwner != _host.Node.NodeId && view?.Find(ringOwner) is { } member)
        {
            endpoint = member.Endpoint;
        }

        if (endpoint is null || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            return null;
        }

        _owners[partition] = (uri, now + (long)(CacheTime.TotalSeconds * _time.TimestampFrequency));
        return uri;
    }

    private HttpRequestMessage CreateRequest(HttpContext context, Uri target, bool hasBody)
    {
        var raw = KeyPath.RawTarget(context);
        var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(target, raw))
        {
            Version = HttpVersion.Version11,
        };
        if (hasBody)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        var traced = System.Diagnostics.Activity.Current is not null;
        foreach (var (name, values) in context.Request.Headers)
        {
            if (HopByHop.Contains(name) || (traced && TraceContext.Contains(name)))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && request.Content is not null)
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.TryAddWithoutValidation(LoopGuardHeader, _host.Node.NodeId);
        return request;
    }

    private static async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        context.Response.Headers.Remove(NotOwnerHeader);
        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        await body.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>See <see cref="Forwarder.AfterSendFailure"/>.</summary>
internal enum SendFailureAction
{
    /// <summary>Send it again, to a refreshed owner.</summary>
    Retry,

    /// <summary>Answer 503: it was a read, nothing changed.</summary>
    Unavailable,

    /// <summary>Answer 504 outcome-unknown: the write may have been applied.</summary>
    OutcomeUnknown,
}
