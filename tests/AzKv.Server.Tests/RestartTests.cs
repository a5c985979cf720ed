using System.Net;
using System.Text;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>A node stopped and started again on the same storage finds everything.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RestartTests
{
    private readonly AzuriteFixture _azurite;

    public RestartTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    [Fact]
    public async Task Restart_WithTheSameStorage_FindsEveryKeyWrittenBefore()
    {
        var container = "rs" + Guid.NewGuid().ToString("N")[..16];
        var written = new Dictionary<string, string>();
        var first = await ServerProcess.StartAsync(_azurite, container);
        await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            var key = $"r/{i:D3}";
            using var response = await first.Http.PutAsync("/v1/kv/" + key, new StringContent($"value-{i}", Encoding.UTF8));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            lock (written)
            {
                written[key] = $"value-{i}";
            }
        }));
        await first.Http.DeleteAsync("/v1/kv/r/050");
        written.Remove("r/050");
        await first.DisposeAsync();
        Assert.Equal(0, await first.Exited);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await using var second = await ServerProcess.StartAsync(_azurite, container);
        var restart = stopwatch.Elapsed;

        foreach (var (key, value) in written)
        {
            Assert.Equal(value, await second.Http.GetStringAsync("/v1/kv/" + key));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await second.Http.GetAsync("/v1/kv/r/050")).StatusCode);

        // Graceful stop released every lease: the second node did not wait a lease duration.
        Assert.True(restart < TimeSpan.FromSeconds(10), $"restart took {restart}");
    }

    [Fact]
    public async Task Stop_WhileAWatchIsWaiting_EndsTheWatchAndStopsPromptly()
    {
        var server = await ServerProcess.StartAsync(_azurite, "sw" + Guid.NewGuid().ToString("N")[..16]);
        using var watcher = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
        var watch = watcher.GetAsync("/v1/watch?prefix=none/&timeout=60");
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        var stopped = clock.Elapsed;
        var answer = await watch.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(0, await server.Exited);
        Assert.True(stopped < TimeSpan.FromSeconds(10), $"stopping took {stopped} with a watch open");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task Start_WhenRegionDiffersFromTheContainersCluster_FailsNamingTheSetting()
    {
        var container = "rg" + Guid.NewGuid().ToString("N")[..16];
        await (await ServerProcess.StartAsync(_azurite, container)).DisposeAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(_azurite, container, 4, "--AzKv:Region=west"));

        Assert.Contains("exited with code 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--AzKv:Region=Bad Region", "AzKv__Region")]
    [InlineData("--AzKv:Cluster:PartitionCount=0", "AzKv__Cluster__PartitionCount")]
    [InlineData("--AzKv:Partition:LeaseDurationSeconds=5", "AzKv__Partition__LeaseDurationSeconds")]
    [InlineData("--AzKv:Partition:LeaseSafetyMarginSeconds=0", "AzKv__Partition__LeaseSafetyMarginSeconds")]
    [InlineData("--AzKv:Partition:IdempotencyWindowSeconds=0", "AzKv__Partition__IdempotencyWindowSeconds")]
    [InlineData("--AzKv:Limits:MaxValueBytes=0", "AzKv__Limits__MaxValueBytes")]
    [InlineData("--AzKv:Storage:Container=UPPER", "AzKv__Storage__Container")]
    [InlineData("--AzKv:Roles=admin", "AzKv__Roles")]
    [InlineData("--AzKv:ConflictPolicies=flags/=maybe", "AzKv__ConflictPolicies")]
    [InlineData("--AzKv:Replication:PollMilliseconds=1", "AzKv__Replication__PollMilliseconds")]
    [InlineData("--AzKv:Replication:AntiEntropyIntervalSeconds=5", "AzKv__Replication__AntiEntropyIntervalSeconds")]
    [InlineData("--AzKv:Peers:0:Region=local", "AzKv__Peers__0__Region 'local' is this node's own region")]
    [InlineData("--AzKv:Peers:0:Region=west", "AzKv__Peers__0__ConnectionString")]
    [InlineData("--AzKv:EventHubs:ConnectionString=not a connection string", "AzKv__EventHubs__ConnectionString is invalid")]
    [InlineData("--AzKv:EventHubs:ConnectionString=Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=a2V5;EntityPath=hub;UseDevelopmentEmulator=true", "AzKv__EventHubs__ConnectionString is invalid: the connection string must be the namespace's")]
    [InlineData("--AzKv:EventHubs:FullyQualifiedNamespace=not a host", "AzKv__EventHubs__FullyQualifiedNamespace 'not a host' is not a host name")]
    public async Task Start_WhenASettingIsInvalid_ExitsWithCode2NamingIt(string argument, string setting)
    {
        var output = new StringWriter();
        var previous = Console.Error;
        int code;
        try
        {
            Console.SetError(output);
            code = await ServerApp.RunAsync(
                ["--AzKv:Storage:ConnectionString=" + _azurite.ConnectionString, "--AzKv:Urls=http://127.0.0.1:0", argument], CancellationToken.None);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Equal(ServerApp.ConfigurationError, code);
        Assert.Contains(setting, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WhenNoStorageIsConfigured_ExitsWithCode2NamingBothSettings()
    {
        var output = new StringWriter();
        var previous = Console.Error;
        int code;
        try
        {
            Console.SetError(output);
            code = await ServerApp.RunAsync(["--AzKv:Urls=http://127.0.0.1:0"], CancellationToken.None);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Equal(ServerApp.ConfigurationError, code);
        Assert.Contains("AzKv__Storage__ConnectionString", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("AzKv__Storage__AccountUrl", output.ToString(), StringComparison.Ordinal);
    }
}
