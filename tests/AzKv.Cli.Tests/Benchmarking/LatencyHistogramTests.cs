using AzKv.Cli.Benchmarking;

namespace AzKv.Cli.Tests.Benchmarking;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void ValueAtPercentile_WhenOneToOneHundredRecorded_IsTheNearestRank()
    {
        var histogram = new LatencyHistogram();
        for (var value = 1; value <= 100; value++)
        {
            histogram.Record(value);
        }

        Assert.Equal(50, histogram.ValueAtPercentile(50));
        Assert.Equal(99, histogram.ValueAtPercentile(99));
        Assert.Equal(100, histogram.ValueAtPercentile(99.9));
        Assert.Equal(1, histogram.ValueAtPercentile(0));
        Assert.Equal(100, histogram.ValueAtPercentile(100));
        Assert.Equal(100, histogram.TotalCount);
        Assert.Equal(1, histogram.Min);
        Assert.Equal(100, histogram.Max);
        Assert.Equal(50.5, histogram.Mean);
    }

    [Fact]
    public void ValueAtPercentile_WhenValuesAreBelow2048_IsExactForEveryRank()
    {
        var histogram = new LatencyHistogram();
        var values = Enumerable.Range(0, 1000).Select(i => (long)((i * 7919) % 2048)).ToArray();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        Array.Sort(values);
        foreach (var percentile in new[] { 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 100 })
        {
            var rank = (int)Math.Ceiling(percentile / 100 * values.Length);
            Assert.Equal(values[rank - 1], histogram.ValueAtPercentile(percentile));
        }
    }

    [Fact]
    public void ValueAtPercentile_WhenATailIsSlow_FindsIt()
    {
        // 990 fast operations at 500 µs and 10 slow ones at 1,500 µs: p99 is fast, p99.9 slow.
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 990; i++)
        {
            histogram.Record(500);
        }

        for (var i = 0; i < 10; i++)
        {
            histogram.Record(1500);
        }

        Assert.Equal(500, histogram.ValueAtPercentile(50));
        Assert.Equal(500, histogram.ValueAtPercentile(99));
        Assert.Equal(1500, histogram.ValueAtPercentile(99.1));
        Assert.Equal(1500, histogram.ValueAtPercentile(99.9));
    }

    [Theory]
    [InlineData(2048L)]
    [InlineData(2049L)]
    [InlineData(12_345L)]
    [InlineData(1_000_000L)]
    [InlineData(987_654_321L)]
    public void ValueAtPercentile_WhenAValueIsLarge_IsWithinOnePartInAThousandAndNeverAboveTheMax(long value)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(value);
        histogram.Record(value);

        var reported = histogram.ValueAtPercentile(50);

        Assert.InRange(reported, value, value + (value / 1024));
        Assert.Equal(value, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void CountsIndex_WhenValuesGrow_NeverDecreasesAndEachBucketHoldsItsValues()
    {
        var previous = -1;
        for (long value = 0; value < 1_000_000; value += 7)
        {
            var index = LatencyHistogram.CountsIndex(value);
            Assert.True(index >= previous);
            Assert.True(LatencyHistogram.HighestEquivalentValue(index) >= value);
            previous = index;
        }
    }

    [Fact]
    public void Add_WhenTwoHistogramsAreMerged_HasEveryValueOfBoth()
    {
        var left = new LatencyHistogram();
        var right = new LatencyHistogram();
        for (var value = 1; value <= 50; value++)
        {
            left.Record(value);
            right.Record(value + 50);
        }

        left.Add(right);

        Assert.Equal(100, left.TotalCount);
        Assert.Equal(50, left.ValueAtPercentile(50));
        Assert.Equal(90, left.ValueAtPercentile(90));
        Assert.Equal(1, left.Min);
        Assert.Equal(100, left.Max);
        Assert.Equal(5050, left.Sum);
    }

    [Fact]
    public void Record_WhenOutOfRange_ClampsToTheRange()
    {
        var histogram = new LatencyHistogram(highestTrackableValue: 10_000);
        histogram.Record(-5);
        histogram.Record(50_000);

        Assert.Equal(0, histogram.ValueAtPercentile(50));
        Assert.Equal(10_000, histogram.Max);
        Assert.Equal(10_000, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void ValueAtPercentile_WhenEmpty_IsZero()
    {
        Assert.Equal(0, new LatencyHistogram().ValueAtPercentile(99));
    }
}
