using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using AzKv.Cli.Platform;
using AzKv.Local;
using AzKv.Local.EventHubs;

namespace AzKv.Cli.Local;

/// <summary>
/// <c>azkv up</c>: Azurite plus N node processes on loopback ports (and, with <c>--frontends</c>,
/// front-end-only processes in front of them), until asked to stop. Prints, for scripts, one
/// <c>node &lt;region&gt; &lt;nodeId&gt; &lt;url&gt; &lt;pid&gt;</c> line per node, one
/// <c>frontend &lt;region&gt; &lt;nodeId&gt; &lt;url&gt; &lt;pid&gt;</c> line per front end,
/// a <c>logs &lt;dir&gt;</c> line, a <c>token &lt;file&gt;</c> line (an admin token of the local issuer;
/// none with <c>--no-auth</c>), a <c>ca &lt;file&gt;</c> line (the CA to trust, with <c>--https</c>), a
/// <c>console &lt;url&gt;</c> line (the web console of the first node, with the admin token in the URL
/// fragment when auth is on), then <c>ready</c> once every process answers /readyz with 200.
/// Progress and errors go to stderr.
/// </summary>
internal sealed class LocalCluster
{
    /// <summary>How long a node has to hand its partitions over after SIGTERM before it is killed.</summary>
    private static readonly TimeSpan NodeStopGrace = TimeSpan.FromSeconds(15);

    /// <summary>How long Azurite has to save its data after SIGTERM before it is killed.</summary>
    private static readonly TimeSpan AzuriteStopGrace = TimeSpan.FromSeconds(10);

    /// <summary>Time between /readyz probes while nodes start.</summary>
    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>The roles of a front-end-only process: no lease, no partition (what the Functions app is in Azure).</summary>
    private const string FrontEndRole = "frontend";

    private readonly UpSettings _settings;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly string _processPath;
    private readonly string _assemblyPath;
    private readonly LocalDescriptors _descriptors = new();
    private LocalAuth? _auth;
    private LocalTlsFiles? _tls;

    public LocalCluster(UpSettings settings, TextWriter output, TextWriter error, string processPath, string assemblyPath)
    {
        _settings = settings;
        _output = output;
        _error = error;
        _processPath = processPath;
        _assemblyPath = assemblyPath;
    }

    /// <summary>Runs the cluster until <paramref name="shutdown"/> fires; returns the exit code.</summary>
    public async Task<int> RunAsync(CancellationToken shutdown)
    {
        for (var i = 1; i <= _settings.TotalProcesses; i++)
        {
            var port = _settings.BasePort + i - 1;
            if (!PortProbe.IsFree(port))
            {
                await ErrorAsync($"port {port} (for {(i <= _settings.TotalNodes ? "node" : "front end")} {i}) is already in use on 127.0.0.1. Stop what listens there, or choose another --base-port.").ConfigureAwait(false);
                return ExitCodes.Error;
            }
        }

        var dataDirectory = _settings.DataDirectory is null ? null : Path.GetFullPath(_settings.DataDirectory);
        var logDirectory = dataDirectory is null
            ? Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"azkv-up-{DateTime.UtcNow:yyyyMMdd'T'HHmmss}-{Environment.ProcessId}"))
            : Path.Combine(dataDirectory, "logs");
        Directory.CreateDirectory(logDirectory);
        var urls = Enumerable.Range(1, _settings.TotalProcesses).Select(i => NodeLaunch.NodeUrl(_settings.BasePort, i, _settings.Https)).ToList();
        if (_settings.Https)
        {
            try
            {
                _tls = LocalCertificates.CreateOrLoad(Path.Combine(dataDirectory ?? logDirectory, "tls"), TimeProvider.System);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await ErrorAsync("could not set up the local certificate authority for --https: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }
        }

        if (_settings.NoAuth)
        {
            await _error.WriteLineAsync(
                "azkv up: WARNING: authentication is OFF (--no-auth). Anyone who can reach these ports can read and change every key " +
                "and call the node-to-node endpoints. Use it only on a machine you alone use.").ConfigureAwait(false);
        }
        else
        {
            try
            {
                _auth = LocalAuth.Create(Path.Combine(dataDirectory ?? logDirectory, "auth"), TimeProvider.System);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                await ErrorAsync("could not set up the local token issuer: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }
        }

        await _error.WriteLineAsync(dataDirectory is null
            ? "azkv up: starting Azurite (in memory; installing it first if needed)..."
            : $"azkv up: starting Azurite (data in {Path.Combine(dataDirectory, "azurite")}; installing it first if needed)...").ConfigureAwait(false);
        AzuriteProcess azurite;
        try
        {
            azurite = await AzuriteProcess.StartAsync(
                new AzuriteOptions
                {
                    DataDirectory = dataDirectory is null ? null : Path.Combine(dataDirectory, "azurite"),
                    ExtraAccounts = _settings.Regions == 1
                        ? new Dictionary<string, string>()
                        : Enumerable.Range(1, _settings.Regions).Select(NodeLaunch.RegionAccount).ToDictionary(a => a.Key, a => a.Value),
                },
                shutdown).ConfigureAwait(false);
        }
        catch (AzuriteStartException ex)
        {
            await ErrorAsync("could not start Azurite, the Azure Storage emulator: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        var nodes = new List<NodeProcess>();
        EventHubsStandIn? eventHubs = null;
        try
        {
            await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"azurite {azurite.GetBlobEndpoint()} {azurite.ProcessId}")).ConfigureAwait(false);
            if (_settings.UsesEventHubs)
            {
                eventHubs = StartEventHubs();
                await _output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"eventhubs sb://{eventHubs.FullyQualifiedNamespace} {Environment.ProcessId}")).ConfigureAwait(false);
            }

            if (!await StartNodesAsync(azurite, eventHubs, logDirectory, nodes).ConfigureAwait(false))
            {
                return ExitCodes.Error;
            }

            await _output.WriteLineAsync("logs " + logDirectory).ConfigureAwait(false);
            _descriptors.Write(urls, _auth?.TokenFile, _auth?.KeyFile, _tls?.CaCertificateFile);
            if (_auth is not null)
            {
                await _output.WriteLineAsync("token " + _auth.TokenFile).ConfigureAwait(false);
            }

            if (_tls is not null)
            {
                await _output.WriteLineAsync("ca " + _tls.CaCertificateFile).ConfigureAwait(false);
            }

            await _output.WriteLineAsync("console " + ConsoleLink(urls[0], _auth?.AdminToken)).ConfigureAwait(false);

            if (!await WaitUntilReadyAsync(nodes, shutdown).ConfigureAwait(false))
            {
                return shutdown.IsCancellationRequested ? ExitCodes.Ok : ExitCodes.Error;
            }

            await _output.WriteLineAsync("ready").ConfigureAwait(false);
            await _output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return await MonitorAsync(nodes, shutdown).ConfigureAwait(false);
        }
        finally
        {
            _descriptors.Withdraw();
            await StopNodesAsync(nodes).ConfigureAwait(false);
            if (eventHubs is not null)
            {
                await eventHubs.DisposeAsync().ConfigureAwait(false);
            }

            await StopAzuriteAsync(azurite).ConfigureAwait(false);
            await _error.WriteLineAsync("azkv up: stopped.").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts every node, then every front end: one region uses the development account; several get
    /// an account each (<see cref="NodeLaunch.RegionAccount"/>), ids <c>&lt;region&gt;-node-&lt;i&gt;</c>
    /// and <c>&lt;region&gt;-frontend-&lt;i&gt;</c>, and every other region as a peer.
    /// </summary>
    /// <summary>
    /// The local Event Hubs stand-in, in this process: one hub per region (<c>azkv-&lt;region&gt;</c>, a
    /// partition per kv partition up to 32) with a consumer group per other region. In memory only:
    /// after a restart with --data the consumers find a new hub, detect the gap and catch up from the blobs.
    /// </summary>
    private EventHubsStandIn StartEventHubs()
    {
        var standIn = EventHubsStandIn.Start();
        var names = _settings.RegionNames;
        foreach (var region in names)
        {
            standIn.CreateHub("azkv-" + region, _settings.HubPartitions, names.Where(n => n != region));
        }

        return standIn;
    }

    private async Task<bool> StartNodesAsync(AzuriteProcess azurite, EventHubsStandIn? eventHubs, string logDirectory, List<NodeProcess> nodes)
    {
        var connections = _settings.Regions == 1
            ? [azurite.GetConnectionString()]
            : Enumerable.Range(1, _settings.Regions).Select(r => NodeLaunch.RegionAccount(r)).Select(a => azurite.GetConnectionString(a.Key, a.Value)).ToList();
        for (var n = 0; n < _settings.TotalProcesses; n++)
        {
            var settings = Describe(n, connections) with { EventHubsConnectionString = eventHubs?.GetConnectionString() };
            var startInfo = NodeLaunch.CreateStartInfo(_processPath, _assemblyPath, NodeLaunch.ServerArguments(settings));
            var logPath = Path.Combine(logDirectory, settings.NodeId + ".log");
            NodeProcess node;
            try
            {
                node = NodeProcess.Start(settings, startInfo, logPath);
            }
            catch (Win32Exception ex)
            {
                await ErrorAsync($"could not start {settings.NodeId} ({startInfo.FileName}): {ex.Message}").ConfigureAwait(false);
                return false;
            }

            nodes.Add(node);
            await _output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{(settings.Roles == FrontEndRole ? "frontend" : "node")} {settings.Region} {settings.NodeId} {FormatUrl(settings.Url)} {node.ProcessId}")).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>What process <paramref name="n"/> (0-based: every region's nodes, then every region's front ends) is told.</summary>
    private NodeLaunch.NodeSettings Describe(int n, IReadOnlyList<string> connections)
    {
        var names = _settings.RegionNames;
        var frontEnd = n >= _settings.TotalNodes;
        var perRegion = frontEnd ? _settings.FrontEnds : _settings.Nodes;
        var index = frontEnd ? n - _settings.TotalNodes : n;
        var region = index / perRegion;
        var i = (index % perRegion) + 1;
        var name = string.Create(CultureInfo.InvariantCulture, $"{(frontEnd ? "frontend" : "node")}-{i}");
        var peers = Enumerable.Range(0, _settings.Regions).Where(r => r != region).Select(r => new KeyValuePair<string, string>(names[r], connections[r])).ToList();
        return new NodeLaunch.NodeSettings(
            names[region],
            _settings.Regions == 1 ? name : names[region] + "-" + name,
            NodeLaunch.NodeUrl(_settings.BasePort, n + 1, _settings.Https),
            connections[region],
            _settings.Partitions,
            peers,
            frontEnd ? FrontEndRole : null,
            SigningKeyFile: _auth?.KeyFile,
            Tls: _tls);
    }

    private async Task<bool> WaitUntilReadyAsync(List<NodeProcess> nodes, CancellationToken shutdown)
    {
        var handler = new SocketsHttpHandler();
        if (_tls is not null)
        {
            AzKv.Client.Http.CustomRootTrust.Apply(handler, AzKv.Client.Http.CustomRootTrust.Load(_tls.CaCertificateFile));
        }

        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var pending = new List<NodeProcess>(nodes);
        var lastAnswer = new Dictionary<NodeProcess, string>();
        while (pending.Count > 0)
        {
            for (var i = pending.Count - 1; i >= 0; i--)
            {
                var node = pending[i];
                if (node.HasExited)
                {
                    await ErrorAsync(
                        string.Create(CultureInfo.InvariantCulture, $"{node.Settings.NodeId} exited with code {node.ExitCode} before it was ready. ") +
                        $"Its last output (full log: {node.LogPath}):\n{node.GetOutputTail()}").ConfigureAwait(false);
                    return false;
                }

                var (ready, answer) = await ProbeAsync(http, node.Settings.Url, shutdown).ConfigureAwait(false);
                if (ready)
                {
                    pending.RemoveAt(i);
                }
                else
                {
                    lastAnswer[node] = answer;
                }
            }

            if (pending.Count == 0)
            {
                return true;
            }

            if (deadline.Elapsed > _settings.ReadyTimeout)
            {
                var node = pending[^1];
                await ErrorAsync(
                    $"{node.Settings.NodeId} ({FormatUrl(node.Settings.Url)}) did not become ready within {_settings.ReadyTimeout.TotalSeconds:0} s " +
                    $"(last /readyz answer: {lastAnswer.GetValueOrDefault(node, "none")}). Its last output (full log: {node.LogPath}):\n{node.GetOutputTail()}").ConfigureAwait(false);
                return false;
            }

            try
            {
                await Task.Delay(ReadyPollInterval, shutdown).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<(bool Ready, string Answer)> ProbeAsync(HttpClient http, Uri url, CancellationToken shutdown)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(url, "/readyz"), shutdown).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (true, "200");
            }

            var body = await response.Content.ReadAsStringAsync(shutdown).ConfigureAwait(false);
            var text = body.Length > 200 ? body[..200] + "..." : body;
            return (false, string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {text}"));
        }
        catch (HttpRequestException ex)
        {
            return (false, ex.Message);
        }
        catch (TaskCanceledException) when (!shutdown.IsCancellationRequested)
        {
            return (false, "no answer within 2 s");
        }
        catch (OperationCanceledException)
        {
            return (false, "stopping");
        }
    }

    /// <summary>Waits for the stop signal; reports nodes that exit on their own meanwhile.</summary>
    private async Task<int> MonitorAsync(List<NodeProcess> nodes, CancellationToken shutdown)
    {
        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = shutdown.Register(() => stopRequested.TrySetResult());
        var running = nodes.ToDictionary(n => n.WaitForExitAsync(CancellationToken.None), n => n);
        while (running.Count > 0)
        {
            var finished = await Task.WhenAny(running.Keys.Append(stopRequested.Task)).ConfigureAwait(false);
            if (finished == stopRequested.Task)
            {
                return ExitCodes.Ok;
            }

            var node = running[finished];
            running.Remove(finished);
            await ErrorAsync(
                string.Create(CultureInfo.InvariantCulture, $"{node.Settings.NodeId} (pid {node.ProcessId}) exited with code {node.ExitCode}; ") +
                $"{running.Count} node(s) still run. Its last output (full log: {node.LogPath}):\n{node.GetOutputTail()}").ConfigureAwait(false);
        }

        await ErrorAsync("every node has exited; stopping Azurite.").ConfigureAwait(false);
        return ExitCodes.Error;
    }

    private async Task StopNodesAsync(List<NodeProcess> nodes)
    {
        if (nodes.Count == 0)
        {
            return;
        }

        await _error.WriteLineAsync("azkv up: stopping the nodes (they hand their partitions over)...").ConfigureAwait(false);
        var stops = nodes.Select(n => n.StopAsync(NodeStopGrace)).ToArray();
        var graceful = await Task.WhenAll(stops).ConfigureAwait(false);
        for (var i = 0; i < nodes.Count; i++)
        {
            if (!graceful[i])
            {
                await ErrorAsync($"{nodes[i].Settings.NodeId} did not stop within {NodeStopGrace.TotalSeconds:0} s and was killed; see {nodes[i].LogPath}.").ConfigureAwait(false);
            }

            await nodes[i].DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM first so Azurite saves its data (it autosaves only every 5 s), then kill.</summary>
    private static async Task StopAzuriteAsync(AzuriteProcess azurite)
    {
        if (!OperatingSystem.IsWindows() && azurite.IsRunning)
        {
            _ = Posix.Kill(azurite.ProcessId, Posix.SigTerm);
            var waited = Stopwatch.StartNew();
            while (azurite.IsRunning && waited.Elapsed < AzuriteStopGrace)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
            }
        }

        await azurite.DisposeAsync().ConfigureAwait(false);
    }

    private Task ErrorAsync(string message) => _error.WriteLineAsync("azkv up: " + message);

    private static string FormatUrl(Uri url) => url.GetLeftPart(UriPartial.Authority);

    /// <summary>
    /// The web console of <paramref name="node"/>: <c>&lt;url&gt;/console</c>, with <c>#token=&lt;token&gt;</c>
    /// when auth is on. A browser never sends the fragment to the server; the console takes the token
    /// into session storage and removes it from the address bar (docs/console.md).
    /// </summary>
    internal static string ConsoleLink(Uri node, string? token) =>
        FormatUrl(node) + "/console" + (token is null ? string.Empty : "#token=" + Uri.EscapeDataString(token));
}
