using System.Text.Json;

namespace AzKv.Cli.Benchmarking;

/// <summary>One run of <c>azkv bench watch</c>.</summary>
/// <param name="Target">The server kind.</param>
/// <param name="Url">Its base URL.</param>
/// <param name="Watchers">Watch streams to open, each on its own TCP connection.</param>
/// <param name="Rate">Writes per second.</param>
/// <param name="Duration">Measured seconds of writes.</param>
/// <param name="Warmup">Writes before the measured ones (delivered, not recorded).</param>
/// <param name="Settle">How long to wait after the last write for every watcher to receive it.</param>
/// <param name="Prefix">The watched prefix; keys are <c>{prefix}{run id}/{sequence}</c>.</param>
/// <param name="ValueBytes">Bytes per value (the send timestamp, padded).</param>
/// <param name="SourceAddresses">Loopback source addresses to spread connections over (1: let the kernel pick).</param>
/// <param name="ServerPid">The server's process id, for its RSS and CPU (optional).</param>
internal sealed record WatchBenchSettings(
    BenchTarget Target,
    Uri Url,
    int Watchers,
    double Rate,
    TimeSpan Duration,
    TimeSpan Warmup,
    TimeSpan Settle,
    string Prefix,
    int ValueBytes,
    int SourceAddresses,
    int? ServerPid);

/// <summary>The outcome of one <c>azkv bench watch</c> run, as <c>--json</c> writes it.</summary>
internal sealed record WatchBenchResult
{
    public required string Target { get; init; }

    public required string Url { get; init; }

    /// <summary>Watch streams asked for.</summary>
    public required int WatchersRequested { get; init; }

    /// <summary>Watch streams established (AzKv: SSE headers received; etcd: <c>created</c> received).</summary>
    public required int Watchers { get; init; }

    /// <summary>Seconds it took to open every stream.</summary>
    public required double ConnectSeconds { get; init; }

    public required double Rate { get; init; }

    public required double Seconds { get; init; }

    public required double WarmupSeconds { get; init; }

    /// <summary>Measured writes acknowledged by the server.</summary>
    public required long Writes { get; init; }

    public required long WriteErrors { get; init; }

    /// <summary>Deliveries expected: measured writes × watchers.</summary>
    public required long Expected { get; init; }

    /// <summary>Distinct (watcher, write) deliveries received of measured writes.</summary>
    public required long Received { get; init; }

    /// <summary><see cref="Received"/> ÷ <see cref="Expected"/>: 1.0 when every watcher got every write.</summary>
    public required double Delivered { get; init; }

    /// <summary>Streams the server closed during the run that the watcher resumed from its last event id.</summary>
    public required long Reconnects { get; init; }

    /// <summary>Watchers that failed (could not connect, or the stream broke and could not resume).</summary>
    public required int WatcherFailures { get; init; }

    public required double P50Ms { get; init; }

    public required double P90Ms { get; init; }

    public required double P99Ms { get; init; }

    public required double P999Ms { get; init; }

    public required double MaxMs { get; init; }

    public required double MeanMs { get; init; }

    /// <summary>Median time from sending a measured put to its acknowledgement (the commit, part of every delivery latency).</summary>
    public required double PutP50Ms { get; init; }

    /// <summary>99th percentile of the same.</summary>
    public required double PutP99Ms { get; init; }

    /// <summary>Server RSS with every watcher connected, before the first write (MiB).</summary>
    public double? RssIdleMiB { get; init; }

    /// <summary>Largest server RSS seen from the first connection to the end of the run (MiB).</summary>
    public double? RssMiB { get; init; }

    /// <summary>Server CPU seconds from the first write to the end of the run.</summary>
    public double? CpuSeconds { get; init; }

    /// <summary>Server CPU over the same window, percent of one core.</summary>
    public double? CpuPercent { get; init; }

    /// <summary>This generator's own CPU over the same window, percent of one core.</summary>
    public required double GeneratorCpuPercent { get; init; }

    public required int Cores { get; init; }

    /// <summary>Why some watchers failed (first few reasons with counts).</summary>
    public IReadOnlyDictionary<string, int>? Failures { get; init; }
}

/// <summary>What <c>azkv bench watch --json</c> writes.</summary>
internal sealed record WatchBenchReport(int Cores, IReadOnlyList<WatchBenchResult> Runs)
{
    public static string Serialize(WatchBenchReport report) => JsonSerializer.Serialize(report, BenchJsonContext.Default.WatchBenchReport);
}
