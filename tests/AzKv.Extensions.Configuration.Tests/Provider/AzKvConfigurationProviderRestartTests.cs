using AzKv.Testing.Server;
using AzKv.Client;
using AzKv.Extensions.Configuration.Provider;
using AzKv.Extensions.Configuration.Tests.Support;
using AzKv.Testing.Azurite;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Provider;

/// <summary>The provider across node restarts and outages: last-known-good starts, and watches that resume.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvConfigurationProviderRestartTests : IDisposable
{
    /// <summary>Reconnecting waits out backoff (client up to 5 s, provider up to 15 s); generous for a loaded machine.</summary>
    private static readonly TimeSpan ReconnectDeadline = TimeSpan.FromSeconds(60);

    private readonly AzuriteFixture _azurite;
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _cacheDirectory = new();

    public AzKvConfigurationProviderRestartTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _azurite = azurite;
        _output = output;
    }

    public void Dispose() => _cacheDirectory.Dispose();

    [Fact]
    public async Task AddAzKv_WhenRestartedWithEveryEndpointDown_StartsFromTheLastKnownGoodCopyThenCatchesUp()
    {
        var container = InProcessServer.NewContainer();
        var port = InProcessServer.GetFreeLoopbackPort();
        var server = await InProcessServer.StartAsync(_azurite.ConnectionString, container, port);
        var url = server.Url;
        using (var client = new AzKvClient(url))
        {
            await client.PutStringAsync("lkg/Greeting", "hello");
            await client.PutAsync("lkg/Db", """{"Host":"db1"}"""u8.ToArray(), "application/json");
        }

        using (var first = Build(url))
        {
            Assert.Equal("hello", first["Greeting"]);
        }

        await server.DisposeAsync();

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var second = Build(url);
        _output.WriteLine($"started from the copy in {started.ElapsedMilliseconds} ms");

        Assert.Equal("hello", second["Greeting"]);
        Assert.Equal("db1", second["Db:Host"]);
        Assert.Equal(DataOrigin.LastKnownGood, AzKvConfigurationProviderTests.ProviderOf(second).Origin);

        await using var back = await InProcessServer.StartAsync(_azurite.ConnectionString, container, port);
        using (var client = new AzKvClient(url))
        {
            await client.PutStringAsync("lkg/Greeting", "back");
        }

        var caughtUp = await Eventually.HoldsAsync(() => second["Greeting"] == "back", ReconnectDeadline, "catching up after the node returned");
        _output.WriteLine($"caught up {caughtUp.TotalMilliseconds:0} ms after the write");
        Assert.Equal(DataOrigin.Store, AzKvConfigurationProviderTests.ProviderOf(second).Origin);
    }

    [Fact]
    public async Task AddAzKv_WhenTheNodeRestartsAndAnotherNodeWroteMeanwhile_ResumesWithoutMissingTheChange()
    {
        var container = InProcessServer.NewContainer();
        var port = InProcessServer.GetFreeLoopbackPort();
        var server = await InProcessServer.StartAsync(_azurite.ConnectionString, container, port, "node-a");
        var url = server.Url;
        using (var client = new AzKvClient(url))
        {
            await client.PutStringAsync("resume/a", "1");
        }

        using var configuration = Build(url);
        Assert.Equal("1", configuration["a"]);
        await server.DisposeAsync();

        // While the provider's node is down, a second node on the same storage (another port, so
        // the provider cannot see it) takes the writes.
        var phase = System.Diagnostics.Stopwatch.StartNew();
        await using (var other = await InProcessServer.StartAsync(_azurite.ConnectionString, container, nodeId: "node-b"))
        {
            _output.WriteLine($"second node ready in {phase.ElapsedMilliseconds} ms");
            using var client = new AzKvClient(other.Url);
            await client.PutStringAsync("resume/a", "2");
            await client.PutStringAsync("resume/b", "new");
        }

        phase.Restart();
        await using var restarted = await InProcessServer.StartAsync(_azurite.ConnectionString, container, port, "node-a");
        _output.WriteLine($"first node back in {phase.ElapsedMilliseconds} ms");
        await Eventually.HoldsAsync(() => configuration["a"] == "2" && configuration["b"] == "new", ReconnectDeadline, "the changes made while the node was down");

        using (var client = new AzKvClient(url))
        {
            await client.PutStringAsync("resume/c", "after");
        }

        var elapsed = await Eventually.HoldsAsync(() => configuration["c"] == "after", TimeSpan.FromSeconds(10), "a change after the restart");
        _output.WriteLine($"change after the restart arrived in {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task AddAzKv_WhenTheStoreIsWipedAndCreatedAgain_ListsAgainAndMissesNothing()
    {
        var port = InProcessServer.GetFreeLoopbackPort();
        var server = await InProcessServer.StartAsync(_azurite.ConnectionString, InProcessServer.NewContainer(), port);
        var url = server.Url;
        using (var client = new AzKvClient(url))
        {
            for (var i = 0; i < 3; i++)
            {
                await client.PutStringAsync("resume/k", "old" + i);
            }

            await client.PutStringAsync("resume/gone", "only in the old store");
        }

        using var configuration = Build(url);
        Assert.Equal("old2", configuration["k"]);
        await server.DisposeAsync();

        // The documented dev flow: an in-memory `azkv up` restarted is a new, empty store on the
        // same URL. Its LSNs start again below the provider's cursor.
        await using var wiped = await InProcessServer.StartAsync(_azurite.ConnectionString, InProcessServer.NewContainer(), port);
        using (var client = new AzKvClient(url))
        {
            await client.PutStringAsync("resume/k", "new");
        }

        var elapsed = await Eventually.HoldsAsync(
            () => configuration["k"] == "new" && configuration["gone"] is null, ReconnectDeadline, "the wiped store's state");
        _output.WriteLine($"listed the new store {elapsed.TotalMilliseconds:0} ms after the write");
    }

    private ConfigurationRoot Build(Uri url) => (ConfigurationRoot)new ConfigurationBuilder()
        .AddAzKv(o =>
        {
            // Short long polls: a node stopping waits for open requests (up to its 30 s shutdown
            // timeout) before it hands its partitions over, and the next node waits for those.
            o.Connect(new AzKv.Client.AzKvClientOptions
            {
                Endpoints = [url],
                WatchPollTimeout = TimeSpan.FromSeconds(2),
                MaxBackoff = TimeSpan.FromSeconds(2),
            });
            o.Select("lkg/").Select("resume/");
            o.CacheDirectory = _cacheDirectory.Path;
            o.StartupTimeout = TimeSpan.FromSeconds(10);
            o.LoggerFactory = TestOutputLoggerFactory.Create(_output);
        })
        .Build();
}
