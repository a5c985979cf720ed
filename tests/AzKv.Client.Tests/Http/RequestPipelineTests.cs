using AzKv.Client.Http;

namespace AzKv.Client.Tests.Http;

public sealed class RequestPipelineTests
{
    private static RequestPipeline Create() => new(new AzKvClientOptions
    {
        Endpoints = [new Uri("http://127.0.0.1:1")],
        InitialBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromSeconds(2),
    });

    [Theory]
    [InlineData(1, 50, 100)]
    [InlineData(2, 100, 200)]
    [InlineData(3, 200, 400)]
    [InlineData(10, 1000, 2000)]
    [InlineData(100, 1000, 2000)]
    public void GetBackoff_WhenRetrying_DoublesWithJitterUpToTheMaximum(int retry, int minMilliseconds, int maxMilliseconds)
    {
        using var pipeline = Create();

        for (var i = 0; i < 50; i++)
        {
            var delay = pipeline.GetBackoff(retry, retryAfter: null);
            Assert.InRange(delay.TotalMilliseconds, minMilliseconds, maxMilliseconds);
        }
    }

    [Fact]
    public void GetBackoff_WhenServerSendsRetryAfter_WaitsAtLeastThatLong()
    {
        using var pipeline = Create();

        Assert.Equal(TimeSpan.FromSeconds(7), pipeline.GetBackoff(1, TimeSpan.FromSeconds(7)));
    }

    [Fact]
    public void GetBackoff_WhenRetryAfterIsAbsurd_CapsItAtOneMinute()
    {
        using var pipeline = Create();

        Assert.Equal(TimeSpan.FromMinutes(1), pipeline.GetBackoff(1, TimeSpan.FromHours(3)));
    }

    [Theory]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(500, false)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    [InlineData(412, false)]
    [InlineData(429, false)]
    public void IsTransient_WhenStatusIs_RetriesOnlyGatewayAndUnavailable(int status, bool expected)
    {
        Assert.Equal(expected, RequestPipeline.IsTransient((System.Net.HttpStatusCode)status));
    }
}
