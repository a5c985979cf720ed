namespace AzKv.Client;

/// <summary>How an <see cref="AzKvClient"/> reaches the store and how hard it retries.</summary>
public sealed class AzKvClientOptions
{
    /// <summary>
    /// Base URLs of AzKv nodes, most preferred first (e.g. <c>http://127.0.0.1:8080</c>). A request
    /// goes to the first endpoint that is not known to be unreachable; when an endpoint cannot be
    /// reached the request moves on to the next one.
    /// </summary>
    public IReadOnlyList<Uri> Endpoints { get; init; } = [];

    /// <summary>
    /// An HTTP client to send requests with (not disposed by the client). Its own
    /// <see cref="HttpClient.Timeout"/> still applies, so keep it above <see cref="RequestTimeout"/>
    /// plus <see cref="WatchPollTimeout"/>. Null: the client creates one.
    /// </summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>
    /// A handler for the client's own <see cref="System.Net.Http.HttpClient"/> (not disposed by the
    /// client), e.g. to add headers or a proxy. Ignored when <see cref="HttpClient"/> is set.
    /// </summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>
    /// Time allowed for one attempt of one request, body included. A watch poll gets
    /// <see cref="WatchPollTimeout"/> plus this, at most 5 s more: a node that has not answered a
    /// long poll by then is hung, and the watch moves on to the next endpoint.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Retries after the first attempt for transient failures: no endpoint reachable, a timeout,
    /// 502, 503 or 504. A 4xx is never retried. Watches retry without limit.
    /// </summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>Backoff before the first retry; it doubles on each retry (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest backoff between retries, unless the server's <c>Retry-After</c> asks for more (capped at one minute).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one watch long poll may wait on the server for a change (0–120 s).</summary>
    public TimeSpan WatchPollTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an endpoint that could not be reached is tried only after the others.</summary>
    public TimeSpan EndpointDownTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock for backoff delays, endpoint down times and token refresh.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// An API key sent with every request as the <c>X-AzKv-Key</c> header
    /// (<see cref="ApiKeyHeaderName"/>). Null: none. Never logged.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// Gets bearer tokens (e.g. Entra ID tokens from an Azure.Core <c>TokenCredential</c>; the
    /// configuration package has the adapter). The client caches the token, asks for a new one
    /// before it expires (see <see cref="AzKvAccessToken.RefreshOn"/>) and once more when the server
    /// answers 401. Null (and no <see cref="ApiKey"/>): the token the environment provides, if any —
    /// <c>AZKV_TOKEN</c>, else the file named by <c>AZKV_TOKEN_FILE</c>, else the admin token of a
    /// local <c>azkv up</c> serving one of the <see cref="Endpoints"/> (docs/security.md).
    /// </summary>
    public Func<CancellationToken, ValueTask<AzKvAccessToken>>? TokenProvider { get; init; }

    /// <summary>
    /// Allows <see cref="ApiKey"/> and <see cref="TokenProvider"/> over plain http to a host that is
    /// not loopback. Off by default: credentials in clear text can be read by anyone on the path.
    /// </summary>
    public bool AllowCredentialsOverHttp { get; init; }

    /// <summary>
    /// A PEM file of CA certificates to trust for https endpoints instead of the machine's store, e.g. the
    /// <c>tls/ca.crt</c> of <c>azkv up --https</c>: a server's certificate must name the host and chain to one
    /// of them. Null: <c>AZKV_CA_FILE</c> when set, else the CA of a local <c>azkv up --https</c> serving one
    /// of the <see cref="Endpoints"/>, else the machine's store. Applies to the client's own handler, so it
    /// cannot be combined with <see cref="HttpClient"/> or <see cref="Handler"/> (configure those yourself).
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// Sends an <c>Idempotency-Key</c> (<see cref="IdempotencyKeyHeaderName"/>) with every PUT and DELETE: one new
    /// key per logical write, the same on each of its retries. The server then applies the write once and
    /// answers a retry with the first attempt's outcome, so writes whose outcome is unknown (a timeout, a lost
    /// connection, 504 <c>outcome-unknown</c>) are retried like any other, conditional ones included. On by
    /// default; turn it off only against a server that predates idempotency keys (it would ignore them), and
    /// then a conditional write with an unknown outcome throws <see cref="AzKvOutcomeUnknownException"/>.
    /// </summary>
    public bool SendIdempotencyKeys { get; init; } = true;

    /// <summary>The header that carries the idempotency key of a write.</summary>
    public const string IdempotencyKeyHeaderName = "Idempotency-Key";

    /// <summary>The header that carries <see cref="ApiKey"/>.</summary>
    public const string ApiKeyHeaderName = "X-AzKv-Key";

    internal void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("AzKvClientOptions.Endpoints must hold at least one URL, e.g. http://127.0.0.1:8080.", nameof(Endpoints));
        }

        foreach (var endpoint in Endpoints)
        {
            if (endpoint is null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"AzKvClientOptions.Endpoints: '{endpoint}' is not an absolute http or https URL.", nameof(Endpoints));
            }
        }

        if ((ApiKey is not null || TokenProvider is not null) && !AllowCredentialsOverHttp)
        {
            foreach (var endpoint in Endpoints)
            {
                if (endpoint.Scheme == Uri.UriSchemeHttp && !endpoint.IsLoopback)
                {
                    throw new ArgumentException(
                        $"AzKvClientOptions.Endpoints: '{endpoint}' is plain http, so the API key or bearer token would travel in clear text; use https, or set AllowCredentialsOverHttp.",
                        nameof(Endpoints));
                }
            }
        }

        if (ApiKey is not null && (ApiKey.Length == 0 || ApiKey.Any(char.IsControl)))
        {
            throw new ArgumentException("AzKvClientOptions.ApiKey must be non-empty text without control characters.", nameof(ApiKey));
        }

        if (CaFile is not null && (HttpClient is not null || Handler is not null))
        {
            throw new ArgumentException("AzKvClientOptions.CaFile applies to the client's own handler: it cannot be combined with HttpClient or Handler (set the trust on those).", nameof(CaFile));
        }

        if (CaFile is not null && !File.Exists(CaFile))
        {
            throw new ArgumentException($"AzKvClientOptions.CaFile '{CaFile}' does not exist.", nameof(CaFile));
        }

        RequirePositive(RequestTimeout, nameof(RequestTimeout));
        RequirePositive(InitialBackoff, nameof(InitialBackoff));
        RequirePositive(MaxBackoff, nameof(MaxBackoff));
        RequirePositive(EndpointDownTime, nameof(EndpointDownTime));
        if (MaxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "AzKvClientOptions.MaxRetries must be 0 or more.");
        }

        if (WatchPollTimeout < TimeSpan.Zero || WatchPollTimeout > TimeSpan.FromSeconds(120))
        {
            throw new ArgumentOutOfRangeException(nameof(WatchPollTimeout), WatchPollTimeout, "AzKvClientOptions.WatchPollTimeout must be from 0 to 120 seconds.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"AzKvClientOptions.{name} must be positive.");
        }
    }
}
