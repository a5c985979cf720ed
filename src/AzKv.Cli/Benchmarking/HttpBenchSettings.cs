using System.Globalization;

namespace AzKv.Cli.Benchmarking;

/// <summary>The server under load.</summary>
internal enum BenchTarget
{
    /// <summary>AzKv's REST API (<c>/v1/kv/{key}</c>).</summary>
    AzKv,

    /// <summary>etcd's v3 JSON gateway (<c>/v3/kv/put</c>, <c>/v3/kv/range</c>).</summary>
    Etcd,
}

/// <summary>What each connection sends.</summary>
internal enum BenchWorkload
{
    /// <summary>Puts of random keys.</summary>
    Put,

    /// <summary>Gets of random (pre-loaded) keys; etcd reads are serializable.</summary>
    Get,

    /// <summary>90% gets, 10% puts.</summary>
    Mixed,

    /// <summary>GET <c>/healthz</c> of AzKv: the HTTP ceiling of this machine with this generator.</summary>
    Ceiling,
}

/// <summary>One run of <c>azkv bench http</c>.</summary>
/// <param name="Target">The server kind.</param>
/// <param name="Url">Its base URL.</param>
/// <param name="Workload">What to send.</param>
/// <param name="Connections">Keep-alive connections, one request in flight on each.</param>
/// <param name="ValueBytes">Bytes per value.</param>
/// <param name="Keys">Distinct keys, chosen uniformly at random.</param>
/// <param name="Duration">The measured time.</param>
/// <param name="Warmup">Load before the measured time (not recorded).</param>
/// <param name="Preload">Write every key once before the run (get and mixed).</param>
internal sealed record HttpBenchSettings(
    BenchTarget Target,
    Uri Url,
    BenchWorkload Workload,
    int Connections,
    int ValueBytes,
    int Keys,
    TimeSpan Duration,
    TimeSpan Warmup,
    bool Preload)
{
    /// <summary>Share of gets in the mixed workload, in percent.</summary>
    public const int MixedGetPercent = 90;

    /// <summary>The name used in reports: <c>put</c>, <c>get</c>, <c>mixed</c>, <c>ceiling</c>.</summary>
    public static string Name(BenchWorkload workload) => workload.ToString().ToLowerInvariant();

    /// <summary>The name used in reports: <c>azkv</c>, <c>etcd</c>.</summary>
    public static string Name(BenchTarget target) => target.ToString().ToLowerInvariant();

    /// <summary>
    /// The key with index <paramref name="index"/>: <c>bench/</c> and the index with at least six
    /// digits, the same for every target.
    /// </summary>
    public string KeyName(int index)
    {
        var digits = Math.Max(6, (Keys - 1).ToString(CultureInfo.InvariantCulture).Length);
        return "bench/" + index.ToString("D" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
