using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AzKv.Server;

namespace AzKv.Testing.Server;

/// <summary>
/// A real AzKv node running in the test process (<see cref="ServerApp.RunAsync"/>) on a loopback
/// port, over Azurite. Stopping it (dispose) hands its partitions over, so another node on the same
/// container, or this one started again on the same port, takes them at once.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _run;
    private readonly string? _caFile;
    private bool _stopped;

    private InProcessServer(Uri url, string container, CancellationTokenSource stop, Task<int> run, string? caFile)
    {
        Url = url;
        Container = container;
        _stop = stop;
        _run = run;
        _caFile = caFile;
    }

    /// <summary>The node's base URL.</summary>
    public Uri Url { get; }

    /// <summary>The container holding its data.</summary>
    public string Container { get; }

    /// <summary>A container name no other test uses.</summary>
    public static string NewContainer() => "c" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Starts a node (on <paramref name="port"/>, or a free one) and waits until /readyz answers 200.</summary>
    public static async Task<InProcessServer> StartAsync(
        string connectionString, string container, int? port = null, string nodeId = "test-node", IEnumerable<string>? extraArguments = null, AzKv.Local.LocalTlsFiles? tls = null)
    {
        var chosen = port ?? GetFreeLoopbackPort();
        var url = new Uri($"{(tls is null ? "http" : "https")}://127.0.0.1:{chosen}");
        string[] args =
        [
            "--AzKv:Region=local",
            "--AzKv:NodeId=" + nodeId,
            "--AzKv:Urls=" + url.GetLeftPart(UriPartial.Authority),
            "--AzKv:AdvertisedUrl=" + url.GetLeftPart(UriPartial.Authority),
            .. tls is null ? Array.Empty<string>() : ["--AzKv:Tls:CertificateFile=" + tls.CertificateFile, "--AzKv:Tls:KeyFile=" + tls.KeyFile, "--AzKv:Tls:CaFile=" + tls.CaCertificateFile],
            "--AzKv:Membership:HeartbeatMilliseconds=250",
            "--AzKv:Storage:ConnectionString=" + connectionString,
            "--AzKv:Storage:Container=" + container,
            "--AzKv:Cluster:PartitionCount=4",
            "--Logging:LogLevel:Default=Warning",
            .. extraArguments ?? [],
        ];
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => ServerApp.RunAsync(args, stop.Token));
        var server = new InProcessServer(url, container, stop, run, tls?.CaCertificateFile);
        try
        {
            await server.WaitUntilReadyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the node and waits for it (idempotent).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // A node that does not stop must not hang the test run; the failure shows elsewhere.
        }

        _stop.Dispose();
    }

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int GetFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = _caFile is null ? new HttpClient() : new HttpClient(Tls.TrustingHandler.Create(_caFile));
        http.Timeout = TimeSpan.FromSeconds(2);
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < StartTimeout)
        {
            if (_run.IsCompleted)
            {
                throw new InvalidOperationException($"The node stopped while starting (exit code {await _run}).");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/readyz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The node at {Url} was not ready within {StartTimeout.TotalSeconds} s; last /readyz answer: {last}");
    }
}
