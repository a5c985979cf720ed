using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AzKv.Server;

namespace AzKv.Client.Tests.Support;

/// <summary>
/// A real AzKv node running in the test process (<see cref="ServerApp.RunAsync"/>) on a free
/// loopback port, over Azurite, in its own container; stopped (partitions handed over) on dispose.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _run;

    private InProcessServer(Uri url, string container, CancellationTokenSource stop, Task<int> run)
    {
        Url = url;
        Container = container;
        _stop = stop;
        _run = run;
    }

    /// <summary>The node's base URL.</summary>
    public Uri Url { get; }

    /// <summary>The container holding its data.</summary>
    public string Container { get; }

    /// <summary>Starts a node and waits until /readyz answers 200.</summary>
    public static async Task<InProcessServer> StartAsync(string connectionString, string container, IEnumerable<string>? extraArguments = null)
    {
        var port = GetFreeLoopbackPort();
        var url = new Uri($"http://127.0.0.1:{port}");
        string[] args =
        [
            "--AzKv:Region=local",
            "--AzKv:NodeId=test-node",
            $"--AzKv:Urls=http://127.0.0.1:{port}",
            $"--AzKv:AdvertisedUrl=http://127.0.0.1:{port}",
            "--AzKv:Storage:ConnectionString=" + connectionString,
            "--AzKv:Storage:Container=" + container,
            "--AzKv:Cluster:PartitionCount=4",
            "--AzKv:Membership:HeartbeatMilliseconds=250",
            "--Logging:LogLevel:Default=Warning",
            .. extraArguments ?? [],
        ];
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => ServerApp.RunAsync(args, stop.Token));
        var server = new InProcessServer(url, container, stop, run);
        try
        {
            await server.WaitUntilReadyAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the node and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A node that does not stop must not hang the test run; the failure shows elsewhere.
        }

        _stop.Dispose();
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < StartTimeout)
        {
            if (_run.IsCompleted)
            {
                throw new InvalidOperationException($"The node stopped while starting (exit code {await _run.ConfigureAwait(false)}).");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/readyz")).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"The node at {Url} was not ready within {StartTimeout.TotalSeconds} s; last /readyz answer: {last}");
    }

    internal static int GetFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
