using System.Net;
using AzKv.Client.Auth;

namespace AzKv.Client.Http;

/// <summary>
/// Sends one logical request: tries the endpoints in order until one answers with something other
/// than 502/503/504 (an unreachable or busy endpoint hands over to the next at once and is tried
/// after the others for a while), then retries the whole list with exponential backoff and jitter,
/// honouring <c>Retry-After</c>. Never retries a 4xx. Adds the API key or the cached bearer token.
/// Responses come back fully buffered.
/// </summary>
/// <remarks>
/// A write that timed out may have been applied; its retry then answers as the server sees it.
/// A conditional write (<c>conditionalWrite</c>) is therefore not retried once its outcome is
/// unknown (a 504, a timeout, or any failed send): it would report a failed
/// precondition caused by its own first attempt, or apply a compare-and-swap twice. It throws
/// <see cref="AzKvOutcomeUnknownException"/> (or returns the 504 for the caller to map) instead.
/// <para>
/// A failed send never proves the server did not see the request, not even "connection refused":
/// SocketsHttpHandler re-sends a request whose reused connection closed before any answer (it takes
/// that for an idle close), so a server that read the request and then died shows up as a refused
/// reconnect (pinned by <c>SocketsHttpHandler_WhenTheServerDiesAfterReadingARequestOnAReusedConnection_ReportsConnectionRefused</c>).
/// </para>
/// </remarks>
internal sealed class RequestPipeline : IDisposable
{
    /// <summary>A server's Retry-After is honoured up to this; beyond it the server is misconfigured, not busy.</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);

    /// <summary>Keep the request target exactly as encoded: no dot-segment removal, no unescaping.</summary>
    private static readonly UriCreationOptions ExactTarget = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly EndpointList _endpoints;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _initialBackoff;
    private readonly TimeSpan _maxBackoff;
    private readonly string? _apiKey;
    private readonly TokenCache? _tokens;

    public RequestPipeline(AzKvClientOptions options)
    {
        _endpoints = new EndpointList(options.Endpoints, options.EndpointDownTime, options.TimeProvider);
        _timeProvider = options.TimeProvider;
        _initialBackoff = options.InitialBackoff;
        _maxBackoff = options.MaxBackoff;
        _apiKey = options.ApiKey;
        // No credential configured: AZKV_TOKEN, AZKV_TOKEN_FILE or a local `azkv up`'s token (AmbientToken).
        var tokenProvider = options.TokenProvider
            ?? (options.ApiKey is null ? AmbientToken.Find(options.Endpoints, options.AllowCredentialsOverHttp, options.TimeProvider) : null);
        _tokens = tokenProvider is null ? null : new TokenCache(tokenProvider, options.TimeProvider);
        if (options.HttpClient is not null)
        {
            _http = options.HttpClient;
        }
        else
        {
            // Timeouts are per attempt (a linked token), so the HttpClient's own one is off.
            var handler = options.Handler ?? CreateHandler(options);
            _http = new HttpClient(handler, disposeHandler: options.Handler is null) { Timeout = Timeout.InfiniteTimeSpan };
            _ownsHttp = true;
        }
    }

    public IReadOnlyList<Uri> Endpoints => _endpoints.All;

    /// <summary>The client's own handler: per-attempt connect timeout, and the CA file's trust when there is one (<see cref="AzKvClientOptions.CaFile"/>).</summary>
    private static SocketsHttpHandler CreateHandler(AzKvClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.RequestTimeout < TimeSpan.FromSeconds(10) ? options.RequestTimeout : TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if ((options.CaFile ?? AmbientToken.FindCaFile(options.Endpoints)) is { } caFile)
        {
            try
            {
                CustomRootTrust.Apply(handler, CustomRootTrust.Load(caFile));
            }
            catch (IOException ex)
            {
                handler.Dispose();
                throw new ArgumentException(ex.Message + (options.CaFile is null ? $" (found through {AmbientToken.CaFileVariable} or a local azkv up)." : " (AzKvClientOptions.CaFile)."), nameof(options), ex);
            }
        }

        return handler;
    }

    /// <summary>
    /// Sends <paramref name="pathAndQuery"/> (starting with <c>/</c>, already encoded) to the best
    /// endpoint. Returns the first non-retryable answer, or the last retryable one when retries run out.
    /// </summary>
    /// <exception cref="AzKvConnectionException">No endpoint answered on any attempt.</exception>
    public async Task<HttpResponseMessage> SendAsync(
        string pathAndQuery,
        Func<Uri, HttpRequestMessage> createRequest,
        int maxRetries,
        TimeSpan attemptTimeout,
        CancellationToken cancellationToken,
        bool conditionalWrite = false)
    {
        Exception? lastFailure = null;
        for (var attempt = 0; ; attempt++)
        {
            // One attempt tries every endpoint once, best first: an endpoint that cannot be reached
            // or answers 502/503/504 hands over to the next one at once (a region that is down or
            // draining must not hold requests back while another could answer). Only when every
            // endpoint failed does the request back off and try them all again.
            TimeSpan? retryAfter = null;
            HttpResponseMessage? lastTransient = null;
            foreach (var endpoint in _endpoints.InTryOrder())
            {
                HttpResponseMessage response;
                try
                {
                    response = await SendToAsync(endpoint, pathAndQuery, createRequest, attemptTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException ex)
                {
                    _endpoints.MarkDown(endpoint);
                    if (conditionalWrite)
                    {
                        // Even "connection refused" does not prove the write never left (see the remarks).
                        throw OutcomeUnknown(endpoint.Prefix, ex);
                    }

                    lastFailure = ex;
                    continue;
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    _endpoints.MarkDown(endpoint);
                    var timeout = new TimeoutException($"{endpoint} did not answer within {attemptTimeout.TotalSeconds:0.#} s.", ex);
                    if (conditionalWrite)
                    {
                        throw OutcomeUnknown(endpoint.Prefix, timeout);
                    }

                    lastFailure = timeout;
                    continue;
                }

                if (conditionalWrite && response.StatusCode == HttpStatusCode.GatewayTimeout)
                {
                    // The write may have been applied: the caller maps this answer, nobody retries it.
                    lastTransient?.Dispose();
                    return response;
                }

                if (await IsForeignAsync(response, cancellationToken).ConfigureAwait(false))
                {
                    // Something that is not AzKv answered (a wrong URL, another app on the port, a
                    // proxy's error page): its 404 says nothing about the key, so try the next endpoint.
                    _endpoints.MarkDown(endpoint);
                    lastFailure = new HttpRequestException(
                        $"{endpoint.Prefix} answered {(int)response.StatusCode} without an AzKv problem document: it is not an AzKv node (wrong URL?)");
                    response.Dispose();
                    continue;
                }

                if (!IsTransient(response.StatusCode))
                {
                    lastTransient?.Dispose();
                    EndpointList.MarkUp(endpoint);
                    return response;
                }

                // Busy or draining: prefer the others for a while, like an unreachable endpoint.
                _endpoints.MarkDown(endpoint);
                var requested = GetRetryAfter(response);
                if (requested is not null && (retryAfter is null || requested > retryAfter))
                {
                    retryAfter = requested;
                }

                lastTransient?.Dispose();
                lastTransient = response;
                lastFailure = null;
            }

            if (attempt >= maxRetries)
            {
                return lastTransient ?? throw Unreachable(lastFailure, attempt + 1);
            }

            lastTransient?.Dispose();
            await Task.Delay(GetBackoff(attempt + 1, retryAfter), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends one request to one endpoint with the credentials; a 401 with a bearer token is sent
    /// once more with a new token (the cached one may have been revoked).
    /// </summary>
    private async Task<HttpResponseMessage> SendToAsync(
        EndpointList.Endpoint endpoint,
        string pathAndQuery,
        Func<Uri, HttpRequestMessage> createRequest,
        TimeSpan attemptTimeout,
        CancellationToken cancellationToken)
    {
        for (var authAttempt = 0; ; authAttempt++)
        {
            using var request = createRequest(new Uri(endpoint.Prefix + pathAndQuery, ExactTarget));
            using var attemptSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptSource.CancelAfter(attemptTimeout);
            if (_apiKey is not null)
            {
                request.Headers.TryAddWithoutValidation(AzKvClientOptions.ApiKeyHeaderName, _apiKey);
            }

            string? token = null;
            if (_tokens is not null)
            {
                token = await _tokens.GetTokenAsync(attemptSource.Token).ConfigureAwait(false);
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, attemptSource.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized || token is null || authAttempt > 0)
            {
                return response;
            }

            response.Dispose();
            _tokens!.Invalidate(token);
        }
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }

        _tokens?.Dispose();
    }

    private static AzKvOutcomeUnknownException OutcomeUnknown(string endpoint, Exception inner) =>
        new($"A conditional write was sent to {endpoint} and no answer came; it may or may not have been applied. Read the key before retrying.",
            status: 0, problemType: null, innerException: inner);

    /// <summary>
    /// A 404 is AzKv's "not found" only when it comes with an AzKv problem document (every 404 the
    /// API sends has one); any other 404 came from something else at that address.
    /// </summary>
    internal static async ValueTask<bool> IsForeignAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            return false;
        }

        // Responses are buffered (ResponseContentRead), so reading the body here does not consume it.
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return !Errors.ProblemDetails.IsAzKvProblem(response.Content.Headers.ContentType?.MediaType, body);
    }

    /// <summary>502, 503 and 504 say "not now", not "never".</summary>
    internal static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>Exponential backoff with jitter in [half, full] of the step; at least the server's Retry-After.</summary>
    internal TimeSpan GetBackoff(int retry, TimeSpan? retryAfter)
    {
        var exponent = Math.Min(retry - 1, 30);
        var step = Math.Min(_initialBackoff.TotalMilliseconds * Math.Pow(2, exponent), _maxBackoff.TotalMilliseconds);
        var delay = TimeSpan.FromMilliseconds(step * (0.5 + (Random.Shared.NextDouble() * 0.5)));
        if (retryAfter is { } requested)
        {
            var honoured = requested > MaxRetryAfter ? MaxRetryAfter : requested;
            if (honoured > delay)
            {
                delay = honoured;
            }
        }

        return delay;
    }

    private TimeSpan? GetRetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _timeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private AzKvConnectionException Unreachable(Exception? lastFailure, int attempts)
    {
        var endpoints = _endpoints.All;
        var where = endpoints.Count == 1
            ? endpoints[0].GetLeftPart(UriPartial.Path).TrimEnd('/')
            : "any of " + string.Join(", ", endpoints.Select(e => e.GetLeftPart(UriPartial.Path).TrimEnd('/')));
        var why = lastFailure is null ? string.Empty : $" ({lastFailure.Message})";
        var tries = attempts == 1 ? "1 attempt" : $"{attempts} attempts";
        return new AzKvConnectionException($"Could not reach AzKv at {where}{why} after {tries}.", endpoints, lastFailure);
    }
}
