using System.Net;
using System.Net.Sockets;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>
/// A real AzKv node (ServerApp) running in this process on a free loopback port, over Azurite,
/// reached through real HTTP. Stopping it is a graceful shutdown (partitions handed over).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<int> _run;

    private ServerProcess(Uri baseAddress, string[] args, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        BaseAddress = baseAddress;
        _run = Task.Run(() => ServerApp.RunAsync(args, configure, _stop.Token));
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public static Task<ServerProcess> StartAsync(AzuriteFixture azurite, string container, int partitions = 4, params string[] extra) =>
        StartAsync(azurite, container, partitions, null, extra);

    /// <summary>Starts a node; <paramref name="configure"/> sees its builder last (a test adds a log sink).</summary>
    public static async Task<ServerProcess> StartAsync(AzuriteFixture azurite, string container, int partitions, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure, params string[] extra)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var args = new List<string>
        {
            $"--AzKv:Urls={url}",
            $"--AzKv:NodeId=test-{port}",
            $"--AzKv:Storage:ConnectionString={azurite.ConnectionString}",
            $"--AzKv:Storage:Container={container}",
            $"--AzKv:Cluster:PartitionCount={partitions}",
            "--AzKv:Partition:LeaseDurationSeconds=15",
            "--AzKv:Membership:HeartbeatMilliseconds=250",
            "--Logging:LogLevel:Default=Warning",
        };
        args.AddRange(extra);
        var server = new ServerProcess(new Uri(url), [.. args], configure);
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_run.IsCompleted)
            {
                throw new InvalidOperationException($"The server exited with code {await _run} before it was ready.");
            }

            try
            {
                using var response = await Http.GetAsync("/readyz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server at {BaseAddress} was not ready within {timeout}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The exit code, after <see cref="DisposeAsync"/>.</summary>
    public Task<int> Exited => _run;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _stop.CancelAsync();
        await _run;
        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
