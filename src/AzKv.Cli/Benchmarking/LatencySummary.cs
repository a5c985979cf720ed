using System.Diagnostics;

namespace AzKv.Cli.Benchmarking;

/// <summary>Exact percentiles over every recorded sample (Stopwatch ticks), nearest-rank method.</summary>
internal sealed class LatencySummary
{
    private readonly long[] _sorted;

    public LatencySummary(IReadOnlyList<List<long>> samplesPerWriter)
    {
        int count = 0;
        foreach (List<long> samples in samplesPerWriter)
        {
            count += samples.Count;
        }

        _sorted = new long[count];
        int offset = 0;
        foreach (List<long> samples in samplesPerWriter)
        {
            samples.CopyTo(_sorted, offset);
            offset += samples.Count;
        }

        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public double MaxMilliseconds => Count == 0 ? 0 : ToMilliseconds(_sorted[^1]);

    /// <summary>The smallest sample at or above fraction <paramref name="p"/> of all samples (0 &lt; p &lt;= 1).</summary>
    public double PercentileMilliseconds(double p)
    {
        if (Count == 0)
        {
            return 0;
        }

        int rank = (int)Math.Ceiling(p * Count);
        return ToMilliseconds(_sorted[Math.Clamp(rank, 1, Count) - 1]);
    }

    private static double ToMilliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
