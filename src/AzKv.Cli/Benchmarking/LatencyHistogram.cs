using System.Numerics;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// A latency histogram with log-linear buckets, HdrHistogram's layout: values (microseconds) below
/// 2,048 each have their own counter, so they are recorded exactly; above that every power-of-two
/// range is split into 1,024 equal sub-buckets, so a value is known to within 1/1,024 (0.1%).
/// Fixed memory (about 180 KB for the default hour-long range), O(1) to record, no allocation.
/// Not thread-safe: one per load-generator connection, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>log2 of the sub-buckets in the upper half of each bucket (1,024).</summary>
    private const int SubBucketHalfCountMagnitude = 10;

    private const int SubBucketHalfCount = 1 << SubBucketHalfCountMagnitude;

    private const int SubBucketCount = SubBucketHalfCount * 2;

    private const long SubBucketMask = SubBucketCount - 1;

    /// <summary>64 − (magnitude + 1): the leading-zero count of a value that lands in bucket 0.</summary>
    private const int LeadingZeroCountBase = 64 - SubBucketHalfCountMagnitude - 1;

    private readonly long[] _counts;

    /// <summary>Creates a histogram that records values from 0 to <paramref name="highestTrackableValue"/> (larger values are clamped to it).</summary>
    public LatencyHistogram(long highestTrackableValue = 3_600_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highestTrackableValue, SubBucketCount);
        HighestTrackableValue = highestTrackableValue;
        _counts = new long[CountsIndex(highestTrackableValue) + 1];
        Min = long.MaxValue;
    }

    /// <summary>The largest value recorded as itself.</summary>
    public long HighestTrackableValue { get; }

    /// <summary>Values recorded.</summary>
    public long TotalCount { get; private set; }

    /// <summary>The smallest value recorded (exact); <see cref="long.MaxValue"/> when empty.</summary>
    public long Min { get; private set; }

    /// <summary>The largest value recorded (exact, after clamping); 0 when empty.</summary>
    public long Max { get; private set; }

    /// <summary>The sum of every value recorded (exact), for the mean.</summary>
    public long Sum { get; private set; }

    /// <summary>The mean of the values recorded; 0 when empty.</summary>
    public double Mean => TotalCount == 0 ? 0 : (double)Sum / TotalCount;

    /// <summary>Records one value; negative values count as 0, values above the range as <see cref="HighestTrackableValue"/>.</summary>
    public void Record(long value)
    {
        value = Math.Clamp(value, 0, HighestTrackableValue);
        _counts[CountsIndex(value)]++;
        TotalCount++;
        Sum += value;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
    }

    /// <summary>Adds every value of <paramref name="other"/> (same range) to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.HighestTrackableValue != HighestTrackableValue)
        {
            throw new ArgumentException("Only histograms with the same range can be added.", nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        TotalCount += other.TotalCount;
        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0–100) by the nearest-rank method: the smallest
    /// recorded value with at least that share of all values at or below it. Exact for values
    /// below 2,048; above, the highest value of its sub-bucket (at most 0.1% high), never more than
    /// <see cref="Max"/>. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        if (TotalCount == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100 * TotalCount);
        rank = Math.Clamp(rank, 1, TotalCount);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(HighestEquivalentValue(i), Max);
            }
        }

        return Max;
    }

    /// <summary>The counter a value goes to.</summary>
    internal static int CountsIndex(long value)
    {
        var bucket = LeadingZeroCountBase - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask));
        var subBucket = (int)(value >> bucket);
        return ((bucket + 1) << SubBucketHalfCountMagnitude) + (subBucket - SubBucketHalfCount);
    }

    /// <summary>The largest value that goes to counter <paramref name="index"/>.</summary>
    internal static long HighestEquivalentValue(int index)
    {
        var bucket = (index >> SubBucketHalfCountMagnitude) - 1;
        var subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucket < 0)
        {
            // Bucket 0 holds 0..2047 one value per counter.
            return index;
        }

        return ((long)subBucket << bucket) + (1L << bucket) - 1;
    }
}
