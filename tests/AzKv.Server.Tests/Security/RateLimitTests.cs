using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;
using Xunit.Abstractions;

namespace AzKv.Server.Tests.Security;

/// <summary>Per-principal rate limits: 429 problem + Retry-After for the flooder, nothing for anyone else.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ITestOutputHelper _output;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-rate-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _server;
    private byte[] _key = [];

    public RateLimitTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _azurite = azurite;
        _output = output;
    }

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_directory, "signing.key");
        _key = LocalIssuer.CreateOrLoadKey(keyFile);
        _server = await ServerProcess.StartAsync(
            _azurite,
            "rate" + Guid.NewGuid().ToString("N")[..16],
            4,
            "--AzKv:Auth:Mode=Local",
            "--AzKv:Auth:SigningKeyFile=" + keyFile,
            "--AzKv:Auth:RequestsPerSecond=50",
            "--AzKv:Auth:Burst=50");
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private HttpRequestMessage Get(string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private string Token(string subject) => LocalIssuer.CreateToken(_key, subject, AuthClaims.AdminRole, [], TimeSpan.FromMinutes(10), TimeProvider.System);

    [Fact]
    public async Task Get_WhenOnePrincipalFloods_ItGets429WithRetryAfterAndAnotherIsNotLimited()
    {
        var flooder = Token("flooder");
        var other = Token("other");
        using (var put = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/rate/key") { Content = new StringContent("v") })
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", other);
            using var stored = await _server!.Http.SendAsync(put);
            Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        }

        // Baseline: the other principal's reads alone.
        var baseline = await ReadLatenciesAsync(other, 100);

        // The flood: 8 concurrent loops for the same principal while the other principal reads.
        using var stop = new CancellationTokenSource();
        var limited = 0;
        var served = 0;
        HttpResponseMessage? sample429 = null;
        var flood = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var request = Get("/v1/kv/rate/key", flooder);
                var response = await _server!.Http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref limited);
                    if (Interlocked.CompareExchange(ref sample429, response, null) is not null)
                    {
                        response.Dispose();
                    }
                }
                else
                {
                    Interlocked.Increment(ref served);
                    response.Dispose();
                }
            }
        })).ToArray();
        var underFlood = await ReadLatenciesAsync(other, 100);
        await stop.CancelAsync();
        await Task.WhenAll(flood);

        _output.WriteLine($"flooder: {served} served, {limited} refused with 429");
        _output.WriteLine($"other principal alone:      p50 {Percentile(baseline.Latencies, 50):F2} ms, p99 {Percentile(baseline.Latencies, 99):F2} ms");
        _output.WriteLine($"other principal with flood: p50 {Percentile(underFlood.Latencies, 50):F2} ms, p99 {Percentile(underFlood.Latencies, 99):F2} ms");

        Assert.True(limited > 0, "the flooder was never limited");
        Assert.Equal(0, baseline.Refused + underFlood.Refused);
        using (sample429)
        {
            Assert.NotNull(sample429);
            Assert.True(sample429!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            var problem = JsonDocument.Parse(await sample429.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("https://azkv.dev/problems/rate-limited", problem.GetProperty("type").GetString());
        }
    }

    private async Task<(List<double> Latencies, int Refused)> ReadLatenciesAsync(string token, int count)
    {
        var latencies = new List<double>(count);
        var refused = 0;
        for (var i = 0; i < count; i++)
        {
            // Under the other principal's own limit (50/s): this test is about the flooder's.
            await Task.Delay(25);
            using var request = Get("/v1/kv/rate/key", token);
            var watch = Stopwatch.StartNew();
            using var response = await _server!.Http.SendAsync(request);
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused++;
            }
        }

        return (latencies, refused);
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }
}
