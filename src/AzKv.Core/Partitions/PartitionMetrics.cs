using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AzKv.Partitions;

/// <summary>Instruments of the partition engine (meter <c>AzKv.Engine</c>), tagged by outcome.</summary>
internal static class PartitionMetrics
{
    public const string MeterName = "AzKv.Engine";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Histogram<double> CommitLatency = Meter.CreateHistogram<double>(
        "azkv.commit.duration", "ms", "Time from a write entering the queue to its batch being durable.");

    public static readonly Histogram<double> AppendLatency = Meter.CreateHistogram<double>(
        "azkv.wal.append.duration", "ms", "Duration of one Append Block.");

    public static readonly Histogram<double> WriterPhase = Meter.CreateHistogram<double>(
        "azkv.writer.phase.duration",
        "ms",
        "Per group-commit batch, the writer loop's time in each phase (tag phase): idle (no write queued), gather (waiting for the batch to fill), "
        + "decide (checking and encoding its writes), commit (the Append Block, retries included), apply (publishing the new state and completing the callers).");

    public static readonly Histogram<int> RecordsPerAppend = Meter.CreateHistogram<int>(
        "azkv.wal.records_per_append", "{record}", "Records committed by one Append Block (group-commit batch size).");

    public static readonly Counter<long> WalBytes = Meter.CreateCounter<long>(
        "azkv.wal.bytes", "By", "Bytes appended to WAL segments.");

    public static readonly Counter<long> Appends = Meter.CreateCounter<long>(
        "azkv.wal.appends", "{append}", "Append Block calls by outcome.");

    public static readonly Counter<long> LeaseRenewals = Meter.CreateCounter<long>(
        "azkv.lease.renewals", "{renewal}", "Lease renewals by outcome.");

    public static readonly Counter<long> TornTails = Meter.CreateCounter<long>(
        "azkv.wal.torn_tails", "{tail}", "Torn or corrupt segment tails truncated on recovery.");

    public static readonly Counter<long> CorruptSegments = Meter.CreateCounter<long>(
        "azkv.wal.corrupt_segments", "{segment}", "Segments found corrupt on recovery (not a torn tail): the partition stops.");

    public static readonly Counter<long> Checkpoints = Meter.CreateCounter<long>(
        "azkv.checkpoints", "{checkpoint}", "Checkpoints written by outcome.");

    public static readonly Counter<long> Writes = Meter.CreateCounter<long>(
        "azkv.writes", "{write}", "Writes by outcome (committed, precondition_failed, not_found, not_owner, unavailable).");

    public static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(
        "azkv.replication.conflicts", "{conflict}", "LWW losers recorded in the conflict log.");

    public static readonly Counter<long> ReplicatedRecords = Meter.CreateCounter<long>(
        "azkv.replication.records", "{record}", "Records read from other regions' logs and applied, by source region.");

    public static readonly Histogram<double> ReplicationApplyLag = Meter.CreateHistogram<double>(
        "azkv.replication.apply_lag", "ms", "Per applied record: now minus the record's HLC (source commit to local durable apply), by source region.");

    public static readonly Counter<long> PublishedRecords = Meter.CreateCounter<long>(
        "azkv.replication.published", "{record}", "Committed records this region's owners published to its replication log (event hub).");

    public static readonly Counter<long> HubEvents = Meter.CreateCounter<long>(
        "azkv.replication.hub_events", "{event}", "Events read from another region's event hub (every kv partition of the hub partition, duplicates included), by source region.");

    public static readonly Counter<long> TransportFallbacks = Meter.CreateCounter<long>(
        "azkv.replication.fallbacks", "{fallback}", "Times a consumer left the event hub for the blob tail (gap, pointer event, hub unreachable), by source region and reason.");

    public static readonly Counter<long> AntiEntropyDivergentKeys = Meter.CreateCounter<long>(
        "azkv.antientropy.divergent_keys", "{key}", "Keys anti-entropy found another region ahead on (versions or causal history this region lacked), by peer region.");

    public static readonly Counter<long> AntiEntropyRepairedKeys = Meter.CreateCounter<long>(
        "azkv.antientropy.repaired_keys", "{key}", "Divergent keys anti-entropy merged into this region, by peer region.");

    public static readonly Counter<long> AntiEntropyRuns = Meter.CreateCounter<long>(
        "azkv.antientropy.runs", "{run}", "Verifications against a peer region, by peer and outcome (equal, repaired, differs, failed).");

    public static TagList Source(string region) => new() { { "source", region } };

    public static TagList Outcome(string outcome) => new() { { "outcome", outcome } };

    /// <summary>Records one batch's phase of the writer loop (see <see cref="WriterPhase"/>).</summary>
    public static void RecordPhase(string phase, long startTimestamp, long endTimestamp) =>
        WriterPhase.Record(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMilliseconds, new TagList { { "phase", phase } });
}
