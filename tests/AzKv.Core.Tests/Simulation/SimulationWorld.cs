using System.Diagnostics;
using System.Globalization;
using System.Text;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Testing;
using AzKv.Testing.Linearizability;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Simulation;

/// <summary>What one run found.</summary>
internal sealed record SimulationResult(
    SimulationOptions Options,
    IReadOnlyList<string> Failures,
    IReadOnlyList<string> Trace,
    int Operations,
    int Unknown,
    long TraceHash,
    IReadOnlyDictionary<string, int> Stats)
{
    public bool Passed => Failures.Count == 0;

    public string Report(int traceLines = 80)
    {
        var text = new StringBuilder();
        text.Append("Simulation FAILED: ").AppendLine(Options.ToString());
        text.Append("Replay: AZKV_SIM_SEED=").Append(Options.Seed)
            .AppendLine(" dotnet test tests/AzKv.Core.Tests --filter FullyQualifiedName~SimulationTests.Run_WhenSeedIsGiven_ReplaysIt");
        foreach (var failure in Failures)
        {
            text.AppendLine(failure);
        }

        text.Append("Last ").Append(Math.Min(traceLines, Trace.Count)).AppendLine(" scheduler decisions:");
        foreach (var line in Trace.Skip(Math.Max(0, Trace.Count - traceLines)))
        {
            text.Append("  ").AppendLine(line);
        }

        return text.ToString();
    }
}

/// <summary>
/// Deterministic simulation of one partition: several nodes (owner candidates that open, take
/// over, break and hand over as the host does), several clients, one in-memory storage account
/// with fault injection, one manual clock, and one <see cref="Random"/> that makes every choice.
/// </summary>
/// <remarks>
/// <para>
/// The engine runs on the thread pool (Task.Run, channels, ConfigureAwait(false)), so the
/// scheduler never lets threads race: every storage request waits in a queue until the scheduler
/// picks it (<see cref="SimulatedBlobStore"/>), time moves only when the scheduler advances the
/// manual clock, and after each decision the scheduler waits until the thread pool is idle
/// (<see cref="Settle"/>) — so every continuation has run and parked on the next request, timer
/// or client before the next decision. The queue is ordered by request content, never by
/// arrival, and the engine's one real-time heuristic (the group-commit gather window) is off.
/// </para>
/// <para>
/// Runs must not share the process's thread pool with other tests: the test collection disables
/// parallelization.
/// </para>
/// </remarks>
internal sealed class SimulationWorld
{
    private const int PartitionId = 7;
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(8);

    private readonly SimulationOptions _options;
    private readonly Random _random;
    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryBlobStore _store;
    private readonly List<SimulatedRequest> _queue = [];
    private readonly Lock _queueLock = new();
    private readonly HistoryRecorder _history = new();
    private readonly List<string> _trace = [];
    private readonly List<string> _failures = [];
    private readonly List<Node> _nodes = [];
    private readonly List<Client> _clients = [];
    private readonly List<(Node Node, Task<WriteOutcome> Task)> _orphanWrites = [];
    private readonly SortedDictionary<string, int> _stats = new(StringComparer.Ordinal);
    private readonly PartitionOptions _partitionOptions = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(15),
        LeaseRenewInterval = TimeSpan.FromSeconds(5),
        LeaseSafetyMargin = TimeSpan.FromSeconds(2),
        TransientRetryBudget = TimeSpan.FromSeconds(5),
        MaxGatherWindow = TimeSpan.Zero,
        SegmentRolloverBlocks = 6,
        CheckpointEveryBytes = 2048,
        MaxBatchRecords = 8,
    };

    private static int? s_baselineBusy;
    private int _baselineBusy;
    private int _valueCounter;
    private int _idempotencyCounter;
    private bool _faultsOn = true;
    private long _traceHash = 17;

    public SimulationWorld(SimulationOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _store = new InMemoryBlobStore("azkv", _clock);
        _store.Faults.Callback = _ => CurrentFault;
    }

    /// <summary>The fault the request being executed gets (set by the scheduler around each request).</summary>
    public BlobFaultAction CurrentFault { get; set; } = BlobFaultAction.None;

    private long Now => _clock.GetTimestamp();

    private void Count(string what, int by = 1) => _stats[what] = _stats.GetValueOrDefault(what) + by;

    private string Key(int index) => "key-" + index.ToString(CultureInfo.InvariantCulture);

    public void Enqueue(SimulatedRequest request)
    {
        lock (_queueLock)
        {
            _queue.Add(request);
        }
    }

    /// <summary>Runs the whole simulation on the calling thread (which must not be a thread-pool thread).</summary>
    public SimulationResult Run()
    {
        _baselineBusy = s_baselineBusy ??= MeasureBaselineBusy(); // once per process: it may take up to 2 s
        _store.CreateContainerIfNotExistsAsync(CancellationToken.None).GetAwaiter().GetResult();
        for (var i = 0; i < _options.Nodes; i++)
        {
            var node = new Node("node-" + (char)('a' + i));
            Restart(node);
            _nodes.Add(node);
        }

        for (var i = 0; i < _options.Clients; i++)
        {
            _clients.Add(new Client(i));
        }

        for (var step = 0; step < _options.Steps && _failures.Count == 0; step++)
        {
            Settle();
            Housekeeping();
            Act();
        }

        if (_failures.Count == 0)
        {
            FinalRecovery();
        }

        var operations = _history.Operations;
        if (_failures.Count == 0)
        {
            foreach (var verdict in LinearizabilityChecker.Check(operations).Where(v => !v.IsLinearizable))
            {
                _failures.Add(verdict.Explanation!);
            }
        }

        // Let the engine's leftover tasks end; the world is dropped.
        foreach (var node in _nodes)
        {
            node.Life.Cancel();
        }

        Count("ops.indeterminate", operations.Count(o => o.IsIndeterminate));
        return new SimulationResult(_options, _failures, _trace, operations.Count, operations.Count(o => o.IsIndeterminate), _traceHash, _stats);
    }

    // ---------------------------------------------------------------- scheduling

    private void Act()
    {
        var choices = new List<(string Name, int Weight, Action Run)>();
        var runnable = Runnable();
        if (runnable.Count > 0)
        {
            choices.Add(("request", 60, () => ExecuteRequest(runnable)));
        }

        choices.Add(("advance", runnable.Count > 0 ? 12 : 40, AdvanceClock));
        var idle = _clients.Where(c => c.Current is null).ToList();
        if (idle.Count > 0)
        {
            choices.Add(("client", 22, () => StartClientOperation(idle)));
        }

        var openers = _nodes.Where(n => n.Alive && !n.IsPaused(Now) && n.Owner is null && n.Opening is null).ToList();
        if (openers.Count > 0)
        {
            var nobodyServes = !_nodes.Any(n => n.Owner is { IsServing: true });
            choices.Add(("open", nobodyServes ? 10 : 1, () => StartOpen(openers[_random.Next(openers.Count)])));
        }

        var alive = _nodes.Where(n => n.Alive).ToList();
        if (_options.Crashes && alive.Count > 0)
        {
            choices.Add(("kill", 1, () => Kill(alive[_random.Next(alive.Count)], "kill -9")));
        }

        var dead = _nodes.Where(n => !n.Alive).ToList();
        if (dead.Count > 0)
        {
            choices.Add(("restart", 3, () => Restart(dead[_random.Next(dead.Count)])));
        }

        var running = alive.Where(n => !n.IsPaused(Now)).ToList();
        if (_options.Pauses && running.Count > 0)
        {
            choices.Add(("pause", 1, () => Pause(running[_random.Next(running.Count)])));
        }

        var owners = running.Where(n => n.Owner is { StopReason: null } && n.HandingOver is null).ToList();
        if (_options.Takeovers && owners.Count > 0)
        {
            choices.Add(("handover", 1, () => HandOver(owners[_random.Next(owners.Count)])));
        }

        if (_options.ClockJumps)
        {
            choices.Add(("clock-jump", 1, JumpWallClock));
        }

        var total = choices.Sum(c => c.Weight);
        var pick = _random.Next(total);
        foreach (var (_, weight, run) in choices)
        {
            if (pick < weight)
            {
                run();
                return;
            }

            pick -= weight;
        }
    }

    private List<SimulatedRequest> Runnable()
    {
        lock (_queueLock)
        {
            return _queue
                .Where(r => !(r.Origin.IsDead is false && NodeOf(r.Origin) is { } node && node.IsPaused(Now)))
                .OrderBy(r => r.SortKey, StringComparer.Ordinal)
                .ToList();
        }
    }

    private Node? NodeOf(SimulatedBlobStore store) =>
        _nodes.FirstOrDefault(n => ReferenceEquals(n.Store, store));

    private void ExecuteRequest(List<SimulatedRequest> runnable)
    {
        var request = runnable[_random.Next(runnable.Count)];
        Remove(request);
        Count("storage." + request.Operation);
        if (request.CallerGone || request.Origin.IsDead)
        {
            Count("fault.late-request");
        }

        if ((request.CallerGone || request.Origin.IsDead) && _random.Next(4) == 0)
        {
            Log($"drop (never sent) {request}");
            return;
        }

        request.Registration.Dispose();
        var fault = BlobFaultAction.None;
        var torn = 0;
        if (_faultsOn)
        {
            var roll = _random.Next(1000);
            if (_options.StorageErrors && roll < 40)
            {
                fault = roll < 30 ? BlobFaultAction.ServerBusy : BlobFaultAction.InternalError;
            }
            else if (_options.LostResponses && roll < 70)
            {
                fault = BlobFaultAction.LoseResponse;
            }
            else if (_options.LostResponses && roll < 90)
            {
                fault = BlobFaultAction.LoseRequest;
            }
            else if (_options.TornAppends && roll < 110 && request.ExecuteTorn is not null && request.BlockLength > 1)
            {
                torn = 1 + _random.Next(request.BlockLength - 1);
            }
        }

        if (fault != BlobFaultAction.None)
        {
            Count("fault." + (fault == BlobFaultAction.LoseResponse ? "lost-response" : fault == BlobFaultAction.LoseRequest ? "timeout-not-sent" : "5xx"));
        }

        if (torn > 0)
        {
            Count("fault.torn-append");
            Log($"torn ({torn}/{request.BlockLength}B) {request}");
            request.ExecuteTorn!(torn).GetAwaiter().GetResult();
            return;
        }

        Log($"{(fault == BlobFaultAction.None ? "ok" : fault.ToString())} {request}");
        request.Execute(fault).GetAwaiter().GetResult();
    }

    private void Remove(SimulatedRequest request)
    {
        lock (_queueLock)
        {
            _queue.Remove(request);
        }
    }

    private void AdvanceClock()
    {
        var roll = _random.Next(100);
        var delta = roll < 70
            ? TimeSpan.FromMilliseconds(1 + _random.Next(1000))
            : roll < 95 ? TimeSpan.FromMilliseconds(1000 + _random.Next(4000)) : TimeSpan.FromSeconds(5 + _random.Next(20));
        Log($"advance {delta.TotalMilliseconds}ms");
        _clock.Advance(delta);
    }

    private void JumpWallClock()
    {
        // Within the documented bound: the lease safety margin absorbs clock error; HLC never goes back.
        var jump = TimeSpan.FromMilliseconds(_random.Next(-2000, 2001));
        Log($"wall clock jumps {jump.TotalMilliseconds}ms");
        Count("fault.clock-jump");
        _clock.SetUtcNow(_clock.GetUtcNow() + jump);
    }

    // ---------------------------------------------------------------- nodes

    private void Restart(Node node)
    {
        node.Incarnation++;
        node.Alive = true;
        node.PausedUntil = 0;
        node.Life = new CancellationTokenSource();
        node.Store = new SimulatedBlobStore(_store, this, node.Id, node.Incarnation);
        node.Hlc = new HybridLogicalClock(_clock);
        node.Owner = null;
        node.LastOwner = null;
        node.Opening = null;
        node.HandingOver = null;
        node.BusySince = null;
        Log($"start {node.Id}#{node.Incarnation}");
    }

    private void Kill(Node node, string why)
    {
        Log($"{why} {node.Id}#{node.Incarnation}");
        Count(why == "kill -9" ? "fault.kill" : "final-kill");
        node.Alive = false;
        node.Store.IsDead = true;
        lock (_queueLock)
        {
            // Requests already on the wire may still land (later); the rest never leave the process.
            foreach (var request in _queue.Where(r => ReferenceEquals(r.Origin, node.Store)).ToList())
            {
                if (_random.Next(2) == 0)
                {
                    _queue.Remove(request);
                }
            }
        }

        foreach (var client in _clients.Where(c => ReferenceEquals(c.Node, node) && c.RetryAt == 0))
        {
            if (!TryScheduleRetry(client, "connection reset"))
            {
                FinishUnknown(client, "connection reset");
            }
        }

        if (node.Owner is { } owner)
        {
            _ = owner.AbandonAsync();
        }

        node.Owner = null;
        node.Opening = null;
        node.HandingOver = null;
        node.DeferredDeliveries.Clear();
        node.Life.Cancel();
    }

    private void Pause(Node node)
    {
        var longer = _random.Next(2) == 0;
        var duration = longer
            ? _partitionOptions.LeaseDuration + TimeSpan.FromMilliseconds(_random.Next(1, 20_000))
            : TimeSpan.FromMilliseconds(200 + _random.Next(5_000));
        Count(duration > _partitionOptions.LeaseDuration ? "fault.pause-longer-than-lease" : "fault.pause-short");
        node.PausedUntil = Now + duration.Ticks;
        node.PausedAt = Now;
        Log($"pause {node.Id}#{node.Incarnation} for {duration.TotalMilliseconds}ms");
    }

    private void StartOpen(Node node)
    {
        // The host's policy (AzKv.Cluster.TakeoverPolicy): break the lease of this node's own
        // previous incarnation, of a holder missing from the membership view (dead, or silent
        // longer than the failure detector's limit) once a lease has passed, or after a lease + 5 s
        // of waiting; otherwise wait for the holder to hand over or its lease to expire.
        var holder = PeekManifestOwner();
        var holderLooksDead = holder is not null && (_nodes.FirstOrDefault(n => n.Id == holder) is not { } h || !h.Alive
            || (h.IsPaused(Now) && TimeSpan.FromTicks(Now - h.PausedAt) > TimeSpan.FromSeconds(6)));
        node.BusySince ??= Now;
        var mode = AzKv.Cluster.TakeoverPolicy.Choose(
            holderIsThisNode: holder == node.Id,
            holderLooksDead,
            waitingFor: TimeSpan.FromTicks(Now - node.BusySince.Value),
            _partitionOptions.LeaseDuration);
        Log($"open {node.Id}#{node.Incarnation} {mode} (holder {holder ?? "none"})");
        Count("open." + mode);
        node.Opening = PartitionOwner.OpenAsync(
            PartitionId, node.Store, new OwnerIdentity(node.Id, "r1", "http://" + node.Id), _partitionOptions, mode, _clock, node.Hlc,
            NullLogger.Instance, node.Life.Token);
    }

    private string? PeekManifestOwner()
    {
        try
        {
            var download = _store.DownloadAsync(StorageLayout.Manifest(PartitionId), BlobRange.All, default, CancellationToken.None).GetAwaiter().GetResult();
            using var json = System.Text.Json.JsonDocument.Parse(download.Content);
            return json.RootElement.TryGetProperty("owner", out var owner) && owner.ValueKind == System.Text.Json.JsonValueKind.Object
                ? owner.GetProperty("nodeId").GetString()
                : null;
        }
        catch (BlobStorageException)
        {
            return null;
        }
    }

    private void HandOver(Node node)
    {
        Log($"handover {node.Id}#{node.Incarnation}");
        Count("handover");
        node.HandingOver = node.Owner!.HandOverAsync(CancellationToken.None);
    }

    // ---------------------------------------------------------------- clients

    private void StartClientOperation(List<Client> idle)
    {
        var client = idle[_random.Next(idle.Count)];
        var key = Key(_random.Next(_options.Keys));

        // The front end forwards to the owner the manifest names; sometimes a stale route.
        var hinted = PeekManifestOwner();
        var node = hinted is not null && _random.Next(10) < 8 ? _nodes.First(n => n.Id == hinted) : _nodes[_random.Next(_nodes.Count)];
        var roll = _random.Next(100);
        var read = client.LastRead.TryGetValue(key, out var seen) ? seen : ((string? Value, string? ETag)?)null;
        RegisterOperation op;
        WriteCommand? command = null;
        if (roll < 35 || (roll is >= 60 and < 85 && read is null))
        {
            op = _history.Invoke(client.Id, key, RegisterOpKind.Read);
        }
        else if (roll < 60)
        {
            var value = NextValue(client);
            op = _history.Invoke(client.Id, key, RegisterOpKind.Write, value);
            command = new WriteCommand { Key = key, Value = Encoding.UTF8.GetBytes(value), ContentType = "text/plain" };
        }
        else if (roll < 85)
        {
            var value = NextValue(client);
            op = _history.Invoke(client.Id, key, RegisterOpKind.Cas, value, read!.Value.Value);
            VersionVector? context = null;
            if (read.Value.Value is not null && !VersionVector.TryParseETag(read.Value.ETag, out context))
            {
                throw new InvalidOperationException("unparseable ETag " + read.Value.ETag);
            }

            command = new WriteCommand
            {
                Key = key,
                Value = Encoding.UTF8.GetBytes(value),
                ContentType = "text/plain",
                Precondition = read.Value.Value is null ? PreconditionKind.IfNoneMatchAny : PreconditionKind.IfMatch,
                IfMatch = context,
            };
        }
        else
        {
            op = _history.Invoke(client.Id, key, RegisterOpKind.Delete);
            command = new WriteCommand { Key = key, Kind = WriteKind.Delete };
        }

        if (command is not null && _options.RetryUnknownWithIdempotencyKeys)
        {
            command = command with { IdempotencyKey = $"c{client.Id}-op{++_idempotencyCounter}" };
        }

        client.Current = op;
        client.Command = command;
        client.Attempts = 1;
        client.RetryAt = 0;
        client.Node = node;
        client.Deadline = Now + ClientTimeout.Ticks;
        Log($"client {client.Id} -> {node.Id}: {op}");
        if (!node.Alive)
        {
            Finish(client, OperationOutcome.Failed, null, "connection refused");
            return;
        }

        void Deliver() => DeliverToNode(client, node, node.Incarnation, op, command);
        if (node.IsPaused(Now))
        {
            node.DeferredDeliveries.Add(Deliver); // waits in the paused process's socket buffer
            return;
        }

        Deliver();
    }

    private string NextValue(Client client) => $"c{client.Id}-{++_valueCounter}";

    /// <summary>
    /// The write of <paramref name="client"/> ended without a definite answer: schedule a retry with the same
    /// Idempotency-Key when allowed (true), else false (the caller finishes the operation).
    /// </summary>
    private bool TryScheduleRetry(Client client, string why)
    {
        if (!_options.RetryUnknownWithIdempotencyKeys || client.Current is null || client.Command is null || client.Attempts > _options.MaxRetries)
        {
            return false;
        }

        client.Write = null;
        client.RetryAt = Now + TimeSpan.FromMilliseconds(200 + _random.Next(2_000)).Ticks;
        Count("client.retry");
        Log($"client {client.Id} {why}, retry #{client.Attempts} with key {client.Command.IdempotencyKey}: {client.Current}");
        return true;
    }

    /// <summary>Sends a due retry, routed like a new request (the owner may have changed).</summary>
    private void SendRetry(Client client)
    {
        client.RetryAt = 0;
        client.Attempts++;
        var hinted = PeekManifestOwner();
        var node = hinted is not null && _random.Next(10) < 8 ? _nodes.First(n => n.Id == hinted) : _nodes[_random.Next(_nodes.Count)];
        client.Node = node;
        client.Deadline = Now + ClientTimeout.Ticks;
        var op = client.Current!;
        var command = client.Command!;
        var attempt = client.Attempts;
        Log($"client {client.Id} retry -> {node.Id}: {op}");
        if (!node.Alive)
        {
            AttemptFailed(client, "connection refused");
            return;
        }

        void Deliver() => DeliverToNode(client, node, node.Incarnation, op, command, attempt);
        if (node.IsPaused(Now))
        {
            node.DeferredDeliveries.Add(Deliver);
            return;
        }

        Deliver();
    }

    /// <summary>
    /// One attempt definitely wrote nothing. The first attempt of an operation may then finish as failed; after an
    /// unknown attempt the operation is still unknown (that attempt may land), so it is retried or ends unknown.
    /// </summary>
    private void AttemptFailed(Client client, string why)
    {
        if (client.Attempts <= 1)
        {
            Finish(client, _options.TrustDefiniteFailures ? OperationOutcome.Failed : OperationOutcome.Unknown, null, why);
        }
        else if (!TryScheduleRetry(client, why))
        {
            Finish(client, OperationOutcome.Unknown, null, why + " after an unknown attempt");
        }
    }

    private void DeliverToNode(Client client, Node node, int incarnation, RegisterOperation op, WriteCommand? command, int attempt = 1)
    {
        // An earlier attempt of a retried write that arrives late is an orphan: it still writes, nobody waits for it.
        var stillWaiting = ReferenceEquals(client.Current, op) && client.Attempts == attempt && client.RetryAt == 0;
        if (!node.Alive || node.Incarnation != incarnation)
        {
            return;
        }

        var owner = node.Owner;
        if (command is null)
        {
            if (!stillWaiting)
            {
                return;
            }

            PartitionState? state = null;
            if (_options.PlantStaleReads && node.LastOwner is { } last)
            {
                state = last.State; // the planted bug: no lease check, and a stopped owner's state
            }
            else if (owner is null || !owner.TryGetState(out state))
            {
                Finish(client, OperationOutcome.Failed, null, "not owner");
                return;
            }

            var set = state!.Get(op.Key);
            string? value = null;
            if (set is not null && !set.IsDeleted(ConflictPolicy.Lww))
            {
                value = Encoding.UTF8.GetString(set.Winner!.Value.Span);
            }

            client.LastRead[op.Key] = (value, set?.Context.ToETag());
            Finish(client, OperationOutcome.Ok, value, "read");
            return;
        }

        if (owner is null)
        {
            if (stillWaiting)
            {
                if (client.Attempts <= 1)
                {
                    Finish(client, OperationOutcome.Failed, null, "no owner here");
                }
                else
                {
                    AttemptFailed(client, "no owner here");
                }
            }

            return;
        }

        var task = owner.WriteAsync(command, CancellationToken.None).AsTask();
        if (stillWaiting)
        {
            client.Write = task;
        }
        else
        {
            _orphanWrites.Add((node, task)); // delivered after the client gave up
        }
    }

    private void Housekeeping()
    {
        foreach (var node in _nodes)
        {
            if (node.Opening is { IsCompleted: true } opening)
            {
                node.Opening = null;
                if (opening.IsCompletedSuccessfully)
                {
                    var result = opening.Result;
                    if (result.Status == OpenStatus.Opened)
                    {
                        Log($"opened {node.Id}#{node.Incarnation} epoch {result.Owner!.Epoch} lsn {result.Owner.Lsn}");
                        Count("opened");
                        node.Owner = result.Owner;
                        node.LastOwner = result.Owner;
                        node.BusySince = null;
                    }
                    else
                    {
                        Log($"busy {node.Id}#{node.Incarnation}");
                    }
                }
                else if (opening.Exception?.InnerException is PartitionStorageException or AzKv.Wal.CorruptDataException)
                {
                    _failures.Add($"{node.Id} found the partition corrupt (no corruption was injected): {opening.Exception.InnerException.Message}");
                }
                else
                {
                    Log($"open failed {node.Id}#{node.Incarnation}: {opening.Exception?.InnerException?.GetType().Name ?? "cancelled"} {opening.Exception?.InnerException?.Message}");
                }
            }

            if (node.HandingOver is { IsCompleted: true })
            {
                node.HandingOver = null;
            }

            if (node.Owner is { StopReason: { } reason })
            {
                Log($"stopped {node.Id}#{node.Incarnation}: {reason}");
                Count("stepped-down");
                node.Owner = null;
            }

            if (node.Alive && node.PausedUntil != 0 && !node.IsPaused(Now))
            {
                node.PausedUntil = 0;
                Log($"resume {node.Id}#{node.Incarnation}");
                var deliveries = node.DeferredDeliveries.ToList();
                node.DeferredDeliveries.Clear();
                foreach (var deliver in deliveries)
                {
                    deliver(); // a client that gave up meanwhile gets nothing; its write still happens
                }
            }
        }

        foreach (var client in _clients)
        {
            if (client.Write is { IsCompleted: true } write)
            {
                client.Write = null;
                var outcome = write.IsCompletedSuccessfully ? write.Result : (WriteOutcome?)null;
                switch (outcome?.Status)
                {
                    case WriteStatus.Committed:
                        client.LastRead[client.Current!.Key] = (client.Current.Kind == RegisterOpKind.Delete ? null : client.Current.Value, outcome.Value.ETag);
                        Finish(client, OperationOutcome.Ok, client.Current!.Kind switch
                        {
                            RegisterOpKind.Cas or RegisterOpKind.Delete => "true",
                            _ => null,
                        }, "committed");
                        break;
                    case WriteStatus.PreconditionFailed when client.Current!.Kind == RegisterOpKind.Cas:
                        client.LastRead.Remove(client.Current.Key);
                        Finish(client, OperationOutcome.Ok, "false", "precondition failed");
                        break;
                    case WriteStatus.NotFound when client.Current!.Kind == RegisterOpKind.Delete:
                        Finish(client, OperationOutcome.Ok, "false", "not found");
                        break;
                    case WriteStatus.OutcomeUnknown:
                        if (!TryScheduleRetry(client, "outcome unknown"))
                        {
                            Finish(client, OperationOutcome.Unknown, null, "outcome unknown");
                        }

                        break;
                    case WriteStatus.NotOwner or WriteStatus.Unavailable:
                        AttemptFailed(client, outcome.Value.Status.ToString());
                        break;
                    default:
                        _failures.Add($"unexpected write outcome {outcome?.Status.ToString() ?? write.Exception?.ToString()} for {client.Current}");
                        FinishUnknown(client, "unexpected");
                        break;
                }
            }
            else if (client.Current is not null && client.RetryAt == 0 && _options.ClientTimeouts && Now > client.Deadline)
            {
                if (client.Write is { } abandoned)
                {
                    _orphanWrites.Add((client.Node!, abandoned));
                }

                Count("fault.client-timeout");
                if (!TryScheduleRetry(client, "client timeout"))
                {
                    FinishUnknown(client, "client timeout");
                }
            }
            else if (client.Current is not null && client.RetryAt != 0 && client.Write is null && Now >= client.RetryAt && _faultsOn)
            {
                SendRetry(client);
            }
        }

        _orphanWrites.RemoveAll(w => w.Task.IsCompleted);
    }

    private void Finish(Client client, OperationOutcome outcome, string? output, string why)
    {
        var op = client.Current!;
        _history.Complete(op, outcome, output);
        Count($"ops.{op.Kind}.{outcome}");
        Log($"client {client.Id} {why}: {op}");
        client.Current = null;
        client.Write = null;
        client.Command = null;
        client.RetryAt = 0;
    }

    private void FinishUnknown(Client client, string why)
    {
        if (client.Current is not null)
        {
            Finish(client, OperationOutcome.Unknown, null, why);
        }

        client.Write = null;
    }

    // ---------------------------------------------------------------- the end: recover and read back

    private void FinalRecovery()
    {
        _faultsOn = false;
        foreach (var node in _nodes.Where(n => n.Alive))
        {
            Kill(node, "final kill");
        }

        foreach (var client in _clients)
        {
            FinishUnknown(client, "run ended");
        }

        var last = new Node("node-final");
        _nodes.Add(last);
        Restart(last);
        for (var i = 0; i < 5000; i++)
        {
            Settle();
            Housekeeping();
            if (_failures.Count > 0)
            {
                return;
            }

            if (last.Owner is not null)
            {
                break;
            }

            if (last.Opening is null)
            {
                if (i > 0)
                {
                    _clock.Advance(TimeSpan.FromSeconds(1)); // the host retries a busy partition after a while
                }

                var holder = PeekManifestOwner();
                Log($"final open (holder {holder ?? "none"})");
                last.Opening = PartitionOwner.OpenAsync(
                    PartitionId, last.Store, new OwnerIdentity(last.Id, "r1", null), _partitionOptions, TakeoverMode.Break, _clock, last.Hlc,
                    NullLogger.Instance, last.Life.Token);
                continue;
            }

            var runnable = Runnable();
            if (runnable.Count > 0)
            {
                ExecuteRequest(runnable);
            }
            else
            {
                _clock.Advance(TimeSpan.FromMilliseconds(500));
            }
        }

        if (last.Owner is not { } owner)
        {
            _failures.Add("The partition wedged: a new owner could not open it after every other node died.");
            return;
        }

        for (var key = 0; key < _options.Keys; key++)
        {
            var op = _history.Invoke(-1, Key(key), RegisterOpKind.Read);
            if (!owner.TryGetState(out var state))
            {
                _failures.Add("The recovered owner is not serving.");
                return;
            }

            var set = state.Get(op.Key);
            _history.Complete(op, OperationOutcome.Ok, set is null || set.IsDeleted(ConflictPolicy.Lww) ? null : Encoding.UTF8.GetString(set.Winner!.Value.Span));
            Log($"read-back {op}");
        }

        // Not wedged: a write commits.
        var probe = owner.WriteAsync(new WriteCommand { Key = "probe", Value = "p"u8.ToArray() }, CancellationToken.None).AsTask();
        for (var i = 0; i < 1000 && !probe.IsCompleted; i++)
        {
            Settle();
            var runnable = Runnable();
            if (runnable.Count > 0)
            {
                ExecuteRequest(runnable);
            }
            else
            {
                _clock.Advance(TimeSpan.FromMilliseconds(100));
            }
        }

        Settle();
        if (!probe.IsCompletedSuccessfully || probe.Result.Status != WriteStatus.Committed)
        {
            _failures.Add($"The recovered owner could not commit a write: {(probe.IsCompletedSuccessfully ? probe.Result.Status.ToString() : probe.Status.ToString())}");
        }
    }

    // ---------------------------------------------------------------- determinism

    private void Log(string line)
    {
        var entry = $"{TimeSpan.FromTicks(Now).TotalSeconds,9:F3}s {line}";
        _trace.Add(entry);
        foreach (var c in entry)
        {
            _traceHash = unchecked((_traceHash * 31) + c);
        }
    }

    /// <summary>
    /// Waits until every continuation the last decision released has run: no queued thread-pool
    /// work and no worker busy (beyond those busy before the simulation started).
    /// </summary>
    private void Settle()
    {
        var watch = Stopwatch.StartNew();
        var idle = 0;
        var spinner = default(SpinWait);
        while (idle < 2)
        {
            // Queued work is counted before a worker is woken for it, and a woken worker counts as
            // busy until it finds no more work: read in this order, "no work and nobody busy" is idle.
            var pending = ThreadPool.PendingWorkItemCount;
            var busy = BusyWorkers();
            _baselineBusy = Math.Min(_baselineBusy, busy);
            if (pending == 0 && busy <= _baselineBusy)
            {
                idle++;
                continue;
            }

            idle = 0;
            spinner.SpinOnce(sleep1Threshold: -1);
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException(
                    $"The simulation did not settle within 30 s (pending work {ThreadPool.PendingWorkItemCount}, busy workers {BusyWorkers()}, baseline {_baselineBusy}).");
            }
        }
    }

    private static int BusyWorkers()
    {
        ThreadPool.GetMaxThreads(out var max, out _);
        ThreadPool.GetAvailableThreads(out var available, out _);
        return max - available;
    }

    /// <summary>
    /// Workers busy with something else before the run (a test runner's blocked thread): the
    /// fewest seen over up to 2 s, stopping as soon as none is busy (leftover work of earlier
    /// tests has then drained). Lowered further whenever fewer are seen during the run.
    /// </summary>
    private static int MeasureBaselineBusy()
    {
        var min = int.MaxValue;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            min = Math.Min(min, BusyWorkers());
            if (min == 0 && watch.Elapsed > TimeSpan.FromMilliseconds(5))
            {
                break;
            }

            Thread.Sleep(1);
        }

        return min;
    }

    private sealed class Node(string id)
    {
        public string Id { get; } = id;

        public int Incarnation { get; set; }

        public bool Alive { get; set; }

        public long PausedUntil { get; set; }

        public long PausedAt { get; set; }

        public CancellationTokenSource Life { get; set; } = new();

        public SimulatedBlobStore Store { get; set; } = null!;

        public HybridLogicalClock Hlc { get; set; } = null!;

        public PartitionOwner? Owner { get; set; }

        public PartitionOwner? LastOwner { get; set; }

        public Task<OpenResult>? Opening { get; set; }

        public Task? HandingOver { get; set; }

        public long? BusySince { get; set; }

        public List<Action> DeferredDeliveries { get; } = [];

        public bool IsPaused(long now) => Alive && PausedUntil != 0 && now < PausedUntil;
    }

    private sealed class Client(int id)
    {
        public int Id { get; } = id;

        public RegisterOperation? Current { get; set; }

        public Node? Node { get; set; }

        public Task<WriteOutcome>? Write { get; set; }

        public long Deadline { get; set; }

        public Dictionary<string, (string? Value, string? ETag)> LastRead { get; } = new(StringComparer.Ordinal);

        /// <summary>The current write, kept for its retries (same Idempotency-Key).</summary>
        public WriteCommand? Command { get; set; }

        /// <summary>Attempts of the current write so far.</summary>
        public int Attempts { get; set; }

        /// <summary>When the pending retry is due (simulated ticks), or 0 for none.</summary>
        public long RetryAt { get; set; }
    }
}
