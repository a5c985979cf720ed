using System.Net;
using System.Net.Http;
using Azure.Core.Pipeline;

namespace AzKv.Storage.AzureBlob.Transport;

/// <summary>
/// The process-wide HTTP transport of every store: one connection pool shared by all stores
/// and pipelines, never disposed (like <c>HttpClientTransport.Shared</c>).
/// </summary>
internal static class BlobTransport
{
    /// <summary>Connections are recycled this often so DNS changes (storage front-end moves) are picked up.</summary>
    private static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Idle connections are closed after this long (the service closes idle ones after about 2 minutes).</summary>
    private static readonly TimeSpan PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90);

    /// <summary>TCP/TLS connect budget; shorter than the network timeout so a dead endpoint fails fast and is retried.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Many partitions append in parallel to one account endpoint; HTTP/1.1 needs one connection per in-flight request.</summary>
    private const int MaxConnectionsPerServer = 1024;

    private static readonly Lazy<HttpClientTransport> LazyShared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static HttpClientTransport Shared => LazyShared.Value;

    private static HttpClientTransport Create()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = PooledConnectionLifetime,
            PooledConnectionIdleTimeout = PooledConnectionIdleTimeout,
            ConnectTimeout = ConnectTimeout,
            MaxConnectionsPerServer = MaxConnectionsPerServer,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };

        // Azure.Core enforces its own per-attempt network timeout; the HttpClient one must not interfere.
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        return new HttpClientTransport(client);
    }
}
