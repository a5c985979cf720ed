using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AzKv.Testing.Chaos;

/// <summary>
/// One AzKv node in its own OS process (<c>dotnet AzKv.Server.dll</c>), restartable on the same
/// port and node id; its output is appended to a log file (a pipe could fill while it is stopped).
/// </summary>
internal sealed class ChaosNode : IAsyncDisposable
{
    private readonly string _serverAssembly;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string _logFile;
    private Process? _process;

    public ChaosNode(string nodeId, int port, string serverAssembly, IReadOnlyList<string> arguments, string logFile)
    {
        NodeId = nodeId;
        BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        _serverAssembly = serverAssembly;
        _arguments = arguments;
        _logFile = logFile;
    }

    public string NodeId { get; }

    public Uri BaseAddress { get; }

    public bool IsRunning => _process is { HasExited: false };

    public bool IsStopped { get; private set; }

    public int? ProcessId => IsRunning ? _process!.Id : null;

    public string LogFile => _logFile;

    public void Start()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{NodeId} is already running.");
        }

        _process?.Dispose();

        // exec: the shell becomes dotnet, so the pid we signal is the node's.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$AZKV_CHAOS_LOG\" 2>&1");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(_serverAssembly);
        foreach (var argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AZKV_CHAOS_LOG"] = _logFile;
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        IsStopped = false;
    }

    /// <summary>kill -9: no handoff, no lease release, no membership goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        IsStopped = false;
    }

    /// <summary>SIGSTOP (<paramref name="stop"/>) or SIGCONT.</summary>
    public async Task SignalStopAsync(bool stop)
    {
        if (ProcessId is { } pid)
        {
            await Signals.SendAsync(pid, stop ? "STOP" : "CONT").ConfigureAwait(false);
            IsStopped = stop;
        }
    }

    public async Task<bool> WaitReadyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (!IsRunning)
            {
                return false;
            }

            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                probe.CancelAfter(TimeSpan.FromSeconds(5));
                using var response = await http.GetAsync(new Uri(BaseAddress, "/readyz"), probe.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // not listening yet, or busy
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                if (IsStopped)
                {
                    await SignalStopAsync(stop: false).ConfigureAwait(false);
                }

                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }

            _process.Dispose();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Signals by <c>kill(1)</c>, so no native interop is needed.</summary>
internal static class Signals
{
    public static async Task SendAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("could not start kill");
        await kill.WaitForExitAsync().ConfigureAwait(false);
    }
}
