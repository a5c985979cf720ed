using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AzKv.Server.Tests.Cluster;

/// <summary>An AzKv node in its own OS process (<c>dotnet AzKv.Server.dll</c>), for cluster tests that kill nodes.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeProcess(string nodeId, Uri baseAddress, Process process)
    {
        NodeId = nodeId;
        BaseAddress = baseAddress;
        _process = process;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string NodeId { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static NodeProcess Start(string nodeId, string connectionString, string container, string roles = "owner,frontend", params string[] extra)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var server = Path.Combine(AppContext.BaseDirectory, "AzKv.Server.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            server,
            $"--AzKv:Urls={url}",
            $"--AzKv:NodeId={nodeId}",
            $"--AzKv:Roles={roles}",
            $"--AzKv:Storage:ConnectionString={connectionString}",
            $"--AzKv:Storage:Container={container}",
            "--AzKv:Cluster:PartitionCount=16",
            "--AzKv:Partition:LeaseDurationSeconds=15",
            "--AzKv:Membership:HeartbeatMilliseconds=1000", // dead after 3 s: robust on a loaded 2-core machine
            "--Logging:LogLevel:Default=Warning",
            .. extra,
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var node = new NodeProcess(nodeId, new Uri(url), process);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, $"{NodeId} exited: {Output}");
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
                // not listening yet
            }

            Assert.True(deadline.Elapsed < timeout, $"{NodeId} not ready within {timeout}: {Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>kill -9: no handoff, no lease release, no membership goodbye.</summary>
    public void Crash() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: the node leaves membership and hands its partitions over, then exits.</summary>
    public async Task<int> StopGracefullyAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
