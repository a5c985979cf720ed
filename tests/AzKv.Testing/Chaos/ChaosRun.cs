using System.Diagnostics;
using System.Globalization;
using System.Text;
using AzKv.Local;
using AzKv.Testing.Linearizability;

namespace AzKv.Testing.Chaos;

/// <summary>
/// The process-level chaos run (issue 15 §3): Azurite on disk and <see cref="ChaosOptions.Nodes"/>
/// real node processes; clients record a history for <see cref="ChaosOptions.Duration"/> while a
/// nemesis kills nodes with SIGKILL and restarts them, SIGSTOPs a node for longer than the lease,
/// and SIGSTOPs Azurite for a few seconds. Then everything is healed, every key is read through
/// every node, and the history (saved to history.jsonl and loaded back) is checked with
/// <see cref="LinearizabilityChecker"/> and for lost acknowledged writes.
/// </summary>
public static class ChaosRun
{
    private const string Container = "chaos";

    /// <summary>Runs once; the report says whether the store kept its promises.</summary>
    public static async Task<ChaosReport> RunAsync(ChaosOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var work = options.WorkDirectory ?? Directory.CreateTempSubdirectory("azkv-chaos-").FullName;
        Directory.CreateDirectory(work);
        var server = FindServer(options.ServerAssembly);
        var clock = Stopwatch.StartNew();
        var faultLog = new List<string>();
        var faults = new Dictionary<string, int>(StringComparer.Ordinal) { ["kill"] = 0, ["restart"] = 0, ["pause"] = 0, ["storage-stall"] = 0 };
        var problems = new List<string>();

        void Note(string kind, string text)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds,8:0.000}s {text}");
            lock (faultLog)
            {
                faultLog.Add(line);
                if (faults.ContainsKey(kind))
                {
                    faults[kind]++;
                }
            }

            options.Log?.Invoke(line);
        }

        var azurite = await AzuriteProcess.StartAsync(new AzuriteOptions { DataDirectory = Path.Combine(work, "azurite") }, cancellationToken).ConfigureAwait(false);
        var nodes = new List<ChaosNode>();
        var azuriteStopped = false;
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            for (var i = 1; i <= options.Nodes; i++)
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"node-{i}");
                var port = ChaosNode.FreePort();
                var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
                string[] arguments =
                [
                    "--AzKv:NodeId=" + id,
                    "--AzKv:Urls=" + url,
                    "--AzKv:AdvertisedUrl=" + url,
                    "--AzKv:Roles=owner,frontend",
                    "--AzKv:Storage:ConnectionString=" + azurite.GetConnectionString(),
                    "--AzKv:Storage:Container=" + Container,
                    "--AzKv:Cluster:PartitionCount=" + options.Partitions.ToString(CultureInfo.InvariantCulture),
                    "--AzKv:Partition:LeaseDurationSeconds=" + options.LeaseSeconds.ToString(CultureInfo.InvariantCulture),
                    "--AzKv:Membership:HeartbeatMilliseconds=" + options.HeartbeatMilliseconds.ToString(CultureInfo.InvariantCulture),
                    "--AzKv:Auth:Mode=None", // the chaos cluster is loopback-only; auth is not what it tests
                    "--Logging:LogLevel:Default=Information",
                    "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
                    "--Logging:LogLevel:System.Net.Http=Warning",
                ];
                nodes.Add(new ChaosNode(id, port, server, arguments, Path.Combine(work, id + ".log")));
            }

            foreach (var node in nodes)
            {
                node.Start();
            }

            await WaitAllReadyAsync(nodes, http, options.ReadyTimeout, problems, "at start", cancellationToken).ConfigureAwait(false);
            if (problems.Count > 0)
            {
                return Report(options, work, clock.Elapsed, [], faults, null, [], problems);
            }

            Note("start", $"{nodes.Count} nodes ready on Azurite {azurite.ServiceUri} (data in {work})");
            var recorder = new ChaosRecorder(clock);
            var keys = Enumerable.Range(0, options.Keys).Select(k => string.Create(CultureInfo.InvariantCulture, $"chaos/k{k}")).ToList();
            var clients = Enumerable.Range(1, options.Clients)
                .Select(c => new ChaosClient(c, http, nodes, keys, recorder, options, HashCode.Combine(options.Seed, c)))
                .ToList();
            var clientsStarted = clock.Elapsed;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stop.CancelAfter(options.Duration);
            var running = clients.Select(c => Task.Run(() => c.RunAsync(stop.Token), CancellationToken.None)).ToList();
            if (options.Nemesis)
            {
                running.Add(Task.Run(() => NemesisAsync(options, nodes, azurite, Note, v => azuriteStopped = v, stop.Token), CancellationToken.None));
            }

            await Task.WhenAll(running).ConfigureAwait(false);
            var ran = clock.Elapsed - clientsStarted;

            // Heal: storage back, every node running and ready, then read every key through every node.
            if (azuriteStopped)
            {
                await Signals.SendAsync(azurite.ProcessId, "CONT").ConfigureAwait(false);
            }

            foreach (var node in nodes)
            {
                if (node.IsStopped)
                {
                    await node.SignalStopAsync(stop: false).ConfigureAwait(false);
                }
                else if (!node.IsRunning)
                {
                    node.Start();
                }
            }

            Note("heal", "healed: every node running, storage running");
            await WaitAllReadyAsync(nodes, http, options.ReadyTimeout, problems, "after the heal", cancellationToken).ConfigureAwait(false);
            // One budget for all final reads, so a wedged cluster fails the run in bounded time.
            var finalReads = Stopwatch.StartNew();
            var finalBudget = TimeSpan.FromSeconds(90);
            for (var n = 0; n < nodes.Count; n++)
            {
                var reader = new ChaosClient(1000 + n, http, nodes, keys, recorder, options, n);
                foreach (var key in keys)
                {
                    if (!await reader.FinalReadAsync(key, n, finalBudget - finalReads.Elapsed).ConfigureAwait(false))
                    {
                        problems.Add($"{key} could not be read through {nodes[n].NodeId} within {finalBudget.TotalSeconds:0} s of the heal (wedged?)");
                    }
                }
            }

            Note("done", "final reads done");
            var historyFile = Path.Combine(work, "history.jsonl");
            ChaosHistory.Save(historyFile, recorder.Operations, recorder.WallTimes);
            await File.WriteAllLinesAsync(Path.Combine(work, "faults.log"), faultLog, cancellationToken).ConfigureAwait(false);
            var history = ChaosHistory.Load(historyFile);
            var verdict = ChaosHistory.Check(history);
            return Report(options, work, ran, history, faults, verdict, [.. clients.SelectMany(c => c.Unexpected)], problems);
        }
        finally
        {
            if (azuriteStopped)
            {
                await Signals.SendAsync(azurite.ProcessId, "CONT").ConfigureAwait(false);
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            await azurite.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static ChaosReport Report(
        ChaosOptions options, string work, TimeSpan ran, IReadOnlyList<RegisterOperation> history, Dictionary<string, int> faults,
        ChaosVerdict? verdict, IReadOnlyList<string> unexpected, List<string> problems) =>
        new(options.Seed, ran, work,
            history.Count(o => o.Outcome == OperationOutcome.Ok),
            history.Count(o => o.Outcome == OperationOutcome.Failed),
            history.Count(o => o.IsIndeterminate),
            history.Count(o => o.Kind != RegisterOpKind.Read && o.Outcome == OperationOutcome.Ok),
            new Dictionary<string, int>(faults), verdict, unexpected, problems);

    /// <summary>
    /// Faults one at a time, in a random order per round, each undone before the next: kill -9 a
    /// node and restart it 2–6 s later; SIGSTOP a node for longer than the lease (lease + 3–5 s);
    /// SIGSTOP Azurite for 2–5 s. Cancelling <paramref name="stop"/> undoes the fault in progress.
    /// </summary>
    private static async Task NemesisAsync(
        ChaosOptions options, List<ChaosNode> nodes, AzuriteProcess azurite, Action<string, string> note, Action<bool> azuriteStopped, CancellationToken stop)
    {
        var random = new Random(options.Seed);
        string[] kinds = ["kill", "pause", "storage-stall"];
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stop).ConfigureAwait(false);
            while (true)
            {
                random.Shuffle(kinds);
                foreach (var kind in kinds)
                {
                    var node = nodes[random.Next(nodes.Count)];
                    switch (kind)
                    {
                        case "kill":
                            await node.KillAsync().ConfigureAwait(false);
                            note("kill", $"kill -9 {node.NodeId}");
                            try
                            {
                                await Task.Delay(TimeSpan.FromSeconds(random.Next(2, 7)), stop).ConfigureAwait(false);
                            }
                            finally
                            {
                                node.Start();
                                note("restart", $"restart {node.NodeId}");
                            }

                            break;
                        case "pause":
                            var pause = TimeSpan.FromSeconds(options.LeaseSeconds + random.Next(3, 6));
                            await node.SignalStopAsync(stop: true).ConfigureAwait(false);
                            note("pause", $"SIGSTOP {node.NodeId} for {pause.TotalSeconds:0} s (lease {options.LeaseSeconds} s)");
                            try
                            {
                                await Task.Delay(pause, stop).ConfigureAwait(false);
                            }
                            finally
                            {
                                await node.SignalStopAsync(stop: false).ConfigureAwait(false);
                                note("resume", $"SIGCONT {node.NodeId}");
                            }

                            break;
                        default:
                            var stall = TimeSpan.FromSeconds(random.Next(2, 6));
                            await Signals.SendAsync(azurite.ProcessId, "STOP").ConfigureAwait(false);
                            azuriteStopped(true);
                            note("storage-stall", $"SIGSTOP Azurite for {stall.TotalSeconds:0} s");
                            try
                            {
                                await Task.Delay(stall, stop).ConfigureAwait(false);
                            }
                            finally
                            {
                                await Signals.SendAsync(azurite.ProcessId, "CONT").ConfigureAwait(false);
                                azuriteStopped(false);
                                note("storage-resume", "SIGCONT Azurite");
                            }

                            break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(random.Next(1000, 3000)), stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the run is over; the fault in progress was undone above
        }
    }

    private static async Task WaitAllReadyAsync(List<ChaosNode> nodes, HttpClient http, TimeSpan timeout, List<string> problems, string when, CancellationToken cancellationToken)
    {
        var ready = await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync(http, timeout, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < nodes.Count; i++)
        {
            if (!ready[i])
            {
                problems.Add($"{nodes[i].NodeId} not ready within {timeout.TotalSeconds:0} s {when} (log: {nodes[i].LogFile})");
            }
        }
    }

    /// <summary>The server to run: the given path, else next to this assembly, else the repository's Debug build.</summary>
    public static string FindServer(string? given)
    {
        if (given is not null)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException($"--server {given} does not exist.", given);
        }

        var local = Path.Combine(AppContext.BaseDirectory, "AzKv.Server.dll");
        if (File.Exists(local) && File.Exists(Path.ChangeExtension(local, ".runtimeconfig.json")))
        {
            return local;
        }

        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var built = Path.Combine(dir.FullName, "src", "AzKv.Server", "bin", "Debug", "net10.0", "AzKv.Server.dll");
            if (File.Exists(Path.Combine(dir.FullName, "AzKv.sln")) && File.Exists(built))
            {
                return built;
            }
        }

        throw new FileNotFoundException("AzKv.Server.dll not found: run `dotnet build src/AzKv.Server` from the repository, or pass --server <path>.");
    }
}

/// <summary>What a chaos run did and found.</summary>
/// <param name="Seed">The seed of the clients' and the nemesis' choices.</param>
/// <param name="Ran">How long the clients ran.</param>
/// <param name="WorkDirectory">Azurite's data, the node logs, history.jsonl, faults.log.</param>
/// <param name="Ok">Operations answered (final reads included).</param>
/// <param name="Failed">Operations answered "did not happen".</param>
/// <param name="Unknown">Operations whose outcome is unknown (unanswered reads included).</param>
/// <param name="AcknowledgedWrites">Writes, CAS and deletes answered.</param>
/// <param name="Faults">Faults injected, by kind.</param>
/// <param name="Verdict">The checker's verdict (null when the cluster never came up).</param>
/// <param name="Unexpected">Answers the API does not define for these requests.</param>
/// <param name="Problems">Liveness failures: a node not ready, a key unreadable after the heal.</param>
public sealed record ChaosReport(
    int Seed, TimeSpan Ran, string WorkDirectory, int Ok, int Failed, int Unknown, int AcknowledgedWrites,
    IReadOnlyDictionary<string, int> Faults, ChaosVerdict? Verdict, IReadOnlyList<string> Unexpected, IReadOnlyList<string> Problems)
{
    /// <summary>True when the history is linearizable, no acknowledged write was lost, every answer was one the API defines, and the cluster healed.</summary>
    public bool Passed => Verdict is { Passed: true } && Unexpected.Count == 0 && Problems.Count == 0;

    /// <summary>A human-readable summary; with the checker's explanation of the first failing key.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"chaos run: seed {Seed}, clients ran {Ran.TotalSeconds:0.0} s; work directory {WorkDirectory}");
        text.AppendLine(CultureInfo.InvariantCulture, $"ops: {Ok + Failed + Unknown} ({Ok} ok, {Failed} failed, {Unknown} unknown); acknowledged writes {AcknowledgedWrites}");
        text.AppendLine("faults: " + string.Join(", ", Faults.Select(f => $"{f.Key} {f.Value}")));
        if (Verdict is { } verdict)
        {
            var bad = verdict.Keys.Where(k => !k.IsLinearizable).ToList();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"checker: {(bad.Count == 0 ? "linearizable" : "NOT linearizable")} ({verdict.Keys.Count} keys, {verdict.Keys.Sum(k => k.StatesExplored)} states); lost acknowledged writes: {verdict.LostWrites.Count}");
            foreach (var lost in verdict.LostWrites.Take(5))
            {
                text.AppendLine("  lost: " + lost);
            }

            if (bad.FirstOrDefault() is { } first)
            {
                text.AppendLine(first.Explanation);
            }
        }

        foreach (var line in Unexpected.Take(10))
        {
            text.AppendLine("unexpected answer: " + line);
        }

        foreach (var line in Problems)
        {
            text.AppendLine("problem: " + line);
        }

        text.Append(Passed ? "verdict: PASS" : "verdict: FAIL");
        return text.ToString();
    }
}
