using System.Net;

namespace AzKv.Client.Tests.Support;

/// <summary>
/// A transport between the client and the real node that can fail chosen requests (a refused
/// connection, or an answer of its own such as 503) and records every request it saw.
/// </summary>
public sealed class FaultInjectingHandler : DelegatingHandler
{
    private readonly Lock _lock = new();
    private readonly List<Uri> _requests = [];

    public FaultInjectingHandler()
        : base(new SocketsHttpHandler())
    {
    }

    /// <summary>Decides, per request, whether to fail it: return a response to answer instead of the server, throw to fail, or null to pass.</summary>
    public Func<HttpRequestMessage, int, HttpResponseMessage?>? Fault { get; set; }

    /// <summary>Every request URI, in order.</summary>
    public IReadOnlyList<Uri> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>
    /// Decides, per request that passed <see cref="Fault"/>, whether to lose its answer: the server handles the
    /// request, then the client sees the connection drop (the write's outcome is unknown to it).
    /// </summary>
    public Func<HttpRequestMessage, int, bool>? LoseResponse { get; set; }

    /// <summary>Every request's headers, in order (a copy of each).</summary>
    public IReadOnlyList<System.Net.Http.Headers.HttpRequestHeaders> RequestHeaders
    {
        get
        {
            lock (_lock)
            {
                return [.. _headers];
            }
        }
    }

    private readonly List<System.Net.Http.Headers.HttpRequestHeaders> _headers = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        int index;
        lock (_lock)
        {
            _requests.Add(request.RequestUri!);
            _headers.Add(request.Headers);
            index = _requests.Count - 1;
        }

        var injected = Fault?.Invoke(request, index);
        if (injected is not null)
        {
            return injected;
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (LoseResponse?.Invoke(request, index) == true)
        {
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely (injected after the server answered)");
        }

        return response;
    }

    /// <summary>A 503 problem with Retry-After, as a busy node answers.</summary>
    public static HttpResponseMessage Unavailable(TimeSpan retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent(
                """{"type":"https://azkv.dev/problems/unavailable","title":"Unavailable","status":503,"detail":"injected"}""",
                System.Text.Encoding.UTF8,
                "application/problem+json"),
        };
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(retryAfter);
        return response;
    }

    /// <summary>The exception a refused connection raises.</summary>
    public static HttpRequestException ConnectionRefused() =>
        new(HttpRequestError.ConnectionError, "Connection refused (injected)", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
}
