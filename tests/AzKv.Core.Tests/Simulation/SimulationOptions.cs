namespace AzKv.Core.Tests.Simulation;

/// <summary>
/// One simulation run: the seed decides everything else. Each fault class has a switch so that a
/// class still finding a known, unfixed bug can be turned off in CI by name (and on for a hunt).
/// </summary>
internal sealed record SimulationOptions
{
    public required int Seed { get; init; }

    /// <summary>Scheduler decisions before the final recovery and read-back.</summary>
    public int Steps { get; init; } = 400;

    public int Nodes { get; init; } = 3;

    public int Clients { get; init; } = 4;

    public int Keys { get; init; } = 3;

    /// <summary>Kill -9 of a node (its in-flight requests may still land), and restarts.</summary>
    public bool Crashes { get; init; } = true;

    /// <summary>A node stops (GC pause, SIGSTOP), sometimes longer than the lease; its held requests land after.</summary>
    public bool Pauses { get; init; } = true;

    /// <summary>Takeovers that break the lease of a live or paused holder, and graceful handoffs.</summary>
    public bool Takeovers { get; init; } = true;

    /// <summary>503 / 500 before the request happens.</summary>
    public bool StorageErrors { get; init; } = true;

    /// <summary>Timeouts: the request did not happen, or happened and the response was lost (status 0 either way).</summary>
    public bool LostResponses { get; init; } = true;

    /// <summary>Only a prefix of an Append Block lands and the response is lost.</summary>
    public bool TornAppends { get; init; } = true;

    /// <summary>Wall-clock steps (either way, up to the lease safety margin); the monotonic clock is unaffected.</summary>
    public bool ClockJumps { get; init; } = true;

    /// <summary>Clients give up after a timeout (the write goes on; the outcome is unknown).</summary>
    public bool ClientTimeouts { get; init; } = true;

    /// <summary>
    /// Take the engine's NotOwner / Unavailable answers as "nothing was written" (its documented
    /// contract). Off: treat them as unknown outcomes, so only the other promises are checked.
    /// </summary>
    public bool TrustDefiniteFailures { get; init; } = true;

    /// <summary>
    /// Writes carry an Idempotency-Key, and a write whose outcome is unknown (engine OutcomeUnknown, client
    /// timeout, connection reset by a kill) is retried with the same key, up to <see cref="MaxRetries"/> times,
    /// as one operation of the history: the checker then proves it was applied once (or not at all, if the last
    /// attempt stays unknown) within its span.
    /// </summary>
    public bool RetryUnknownWithIdempotencyKeys { get; init; } = true;

    /// <summary>Retries of a write with an unknown outcome (<see cref="RetryUnknownWithIdempotencyKeys"/>).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>
    /// A planted bug, for the test that proves the simulation can fail: a node keeps serving reads
    /// from the last state of its last owner, lease or not (a zombie serving stale reads).
    /// </summary>
    public bool PlantStaleReads { get; init; }

    public override string ToString() =>
        $"seed={Seed} steps={Steps} nodes={Nodes} clients={Clients} keys={Keys} crashes={Crashes} pauses={Pauses} takeovers={Takeovers} " +
        $"storageErrors={StorageErrors} lostResponses={LostResponses} tornAppends={TornAppends} clockJumps={ClockJumps} " +
        $"clientTimeouts={ClientTimeouts} trustDefiniteFailures={TrustDefiniteFailures} retryUnknownWithKeys={RetryUnknownWithIdempotencyKeys}" + (PlantStaleReads ? " PLANTED-STALE-READS" : "");
}
