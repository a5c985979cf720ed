namespace AzKv.Testing.Chaos;

/// <summary>How a process-level chaos run is set up (<see cref="ChaosRun"/>, <c>infra/chaos/chaos.cs</c>).</summary>
public sealed class ChaosOptions
{
    /// <summary>How long clients run while the nemesis injects faults (the heal and the check come after).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Node processes (owner and front end each).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Concurrent clients.</summary>
    public int Clients { get; init; } = 6;

    /// <summary>Keys the clients share (few, so operations contend).</summary>
    public int Keys { get; init; } = 6;

    /// <summary>Partitions of the cluster.</summary>
    public int Partitions { get; init; } = 4;

    /// <summary>Segment lease (the server's minimum, 15 s, so a pause "longer than the lease" fits a short run).</summary>
    public int LeaseSeconds { get; init; } = 15;

    /// <summary>Membership heartbeat of the nodes.</summary>
    public int HeartbeatMilliseconds { get; init; } = 1000;

    /// <summary>Seeds every random choice of clients and nemesis (timing still varies run to run).</summary>
    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>One HTTP attempt's timeout; past it the attempt's outcome is unknown.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per write, all with the same <c>Idempotency-Key</c>.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>
    /// After an attempt whose outcome is unknown, how long a write keeps being retried with its key (beyond
    /// <see cref="MaxAttempts"/>) until an owner answers it: the answer is the first attempt's outcome if it
    /// landed. Longer than a failover (lease plus break), so most writes end determinate and the checker's
    /// search stays small; an unknown write may take effect at any later time, and each one multiplies it.
    /// </summary>
    public TimeSpan UnknownWriteRetryBudget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Inject faults (off: a baseline run).</summary>
    public bool Nemesis { get; init; } = true;

    /// <summary>How long every node gets to answer /readyz after start and after the heal.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Where Azurite's data, the node logs, history.jsonl and faults.log go; null: a new temporary folder.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>The server (<c>AzKv.Server.dll</c>); null: next to this assembly, else src/AzKv.Server/bin/Debug/net10.0.</summary>
    public string? ServerAssembly { get; init; }

    /// <summary>Progress lines (faults as they happen); null: silent.</summary>
    public Action<string>? Log { get; init; }
}
