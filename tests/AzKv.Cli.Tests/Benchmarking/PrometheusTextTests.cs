using AzKv.Cli.Benchmarking;

namespace AzKv.Cli.Tests.Benchmarking;

public sealed class PrometheusTextTests
{
    private const string Exposition = """
        # HELP azkv_wal_records_per_append Records committed by one Append Block (group-commit batch size).
        # TYPE azkv_wal_records_per_append histogram
        azkv_wal_records_per_append_bucket{le="0.5"} 0
        azkv_wal_records_per_append_bucket{le="+Inf"} 120
        azkv_wal_records_per_append_sum 3600
        azkv_wal_records_per_append_count 120
        azkv_wal_records_per_append_sum_extra 5
        azkv_http_requests_total{method="GET",route="/healthz",status="200"} 10
        azkv_http_requests_total{method="PUT",route="/v1/kv/{**key}",status="200"} 1.5E+3
        """;

    [Fact]
    public void TryGetSum_WhenTheMetricHasNoLabels_ReadsItsValue()
    {
        Assert.True(PrometheusText.TryGetSum(Exposition, PrometheusText.RecordsPerAppendSum, out var sum));
        Assert.True(PrometheusText.TryGetSum(Exposition, PrometheusText.RecordsPerAppendCount, out var count));

        Assert.Equal(3600, sum);
        Assert.Equal(120, count);
    }

    [Fact]
    public void TryGetSum_WhenTheMetricHasSeveralLabelSets_AddsThem()
    {
        Assert.True(PrometheusText.TryGetSum(Exposition, "azkv_http_requests_total", out var sum));

        Assert.Equal(1510, sum);
    }

    [Fact]
    public void TryGetSum_WhenTheMetricIsAbsent_IsFalse()
    {
        Assert.False(PrometheusText.TryGetSum(Exposition, "azkv_wal_bytes_total", out _));
    }
}
