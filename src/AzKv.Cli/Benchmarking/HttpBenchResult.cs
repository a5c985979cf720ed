using System.Text.Json;
using System.Text.Json.Serialization;

namespace AzKv.Cli.Benchmarking;

/// <summary>The outcome of one run of <c>azkv bench http</c> (one target, one workload), as <c>--json</c> writes it.</summary>
internal sealed record HttpBenchResult
{
    public required string Target { get; init; }

    public required string Url { get; init; }

    public required string Workload { get; init; }

    public required int Connections { get; init; }

    public required int ValueBytes { get; init; }

    public required int Keys { get; init; }

    /// <summary>The measured window, seconds.</summary>
    public required double Seconds { get; init; }

    public required double WarmupSeconds { get; init; }

    /// <summary>Logical processors of this machine (the generator and the servers share them).</summary>
    public required int Cores { get; init; }

    /// <summary>Successful operations in the measured window.</summary>
    public required long Operations { get; init; }

    public required long Gets { get; init; }

    public required long Puts { get; init; }

    /// <summary>Failed operations in the measured window.</summary>
    public required long Errors { get; init; }

    /// <summary>Failures by reason (<c>http 503</c>, <c>etcd: key not found</c>, <c>connection: …</c>).</summary>
    public required SortedDictionary<string, long> ErrorsByReason { get; init; }

    /// <summary>Successful operations per second of the measured window.</summary>
    public required double OpsPerSec { get; init; }

    public required double P50Ms { get; init; }

    public required double P90Ms { get; init; }

    public required double P99Ms { get; init; }

    public required double P999Ms { get; init; }

    public required double MaxMs { get; init; }

    public required double MeanMs { get; init; }

    /// <summary>AzKv only: records per Append Block over the measured window, from <c>/metrics</c>.</summary>
    public double? RecordsPerAppend { get; init; }

    /// <summary>AzKv only: Append Block calls that committed a batch in the measured window.</summary>
    public long? Appends { get; init; }

    /// <summary>TCP connections the generator opened (equal to <see cref="Connections"/> when none was dropped).</summary>
    public required int ConnectionsOpened { get; init; }

    /// <summary>Why some connections stopped early, if any did.</summary>
    public IReadOnlyList<string>? Stopped { get; init; }
}

/// <summary>Every run of one invocation: what <c>--json</c> writes.</summary>
internal sealed record HttpBenchReport(int Cores, IReadOnlyList<HttpBenchResult> Runs);

/// <summary>Source-generated JSON for the benchmark's reports.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(HttpBenchReport))]
[JsonSerializable(typeof(WatchBenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext
{
    /// <summary>Serializes a report, indented.</summary>
    public static string Serialize(HttpBenchReport report) => JsonSerializer.Serialize(report, Default.HttpBenchReport);
}
