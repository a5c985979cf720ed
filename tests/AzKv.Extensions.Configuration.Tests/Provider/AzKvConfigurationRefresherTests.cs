using System.Collections.Concurrent;
using AzKv.Client;
using AzKv.Extensions.Configuration.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Provider;

/// <summary>
/// Refresh controls: the manual refresher (<see cref="IConfigurationRefresher"/>), the watch switch
/// and the interval checks, against a live node, on a fake clock so "the interval has passed" is exact.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvConfigurationRefresherTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly AzuriteFixture _azurite;
    private readonly List<IConfigurationRoot> _roots = [];
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingHandler _requests = new();

    public AzKvConfigurationRefresherTests(AzuriteFixture azurite, ServerFixture fixture, ITestOutputHelper output)
        : base(azurite, fixture, output)
    {
        _azurite = azurite;
    }

    protected override void DisposeTestResources()
    {
        foreach (var root in _roots)
        {
            (root as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task TryRefreshAsync_WhenTheIntervalHasPassed_AppliesPutsAndDeletesAndRaisesTheReloadTokenOnce()
    {
        await Client.PutStringAsync("manualr/Greeting", "v1");
        await Client.PutStringAsync("manualr/Temp", "t");
        var options = new AzKvConfigurationOptions();
        var configuration = Build(options, "manualr/", watch: false, reloadOnChange: false);
        var refresher = options.GetRefresher();
        var reloads = 0;
        using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref reloads));

        await Client.PutStringAsync("manualr/Greeting", "v2");
        await Client.DeleteAsync("manualr/Temp");

        // Within the interval of the load: no request, the settings stay.
        var before = _requests.Count;
        Assert.True(await refresher.TryRefreshAsync());
        Assert.Equal(before, _requests.Count);
        Assert.Equal("v1", configuration["Greeting"]);

        _clock.Advance(Interval);
        Assert.True(await refresher.TryRefreshAsync());

        Assert.Equal("v2", configuration["Greeting"]);
        Assert.Null(configuration["Temp"]);
        Assert.Equal(1, Volatile.Read(ref reloads));
        // A check reads the changes and the changed keys, never the whole list again.
        Assert.DoesNotContain(_requests.Uris.Skip(before), u => u.AbsolutePath == "/v1/kv");
    }

    [Fact]
    public async Task RefreshAsync_WhenNothingChanged_DoesNotRaiseTheReloadToken()
    {
        await Client.PutStringAsync("quietr/Greeting", "same");
        var options = new AzKvConfigurationOptions();
        var configuration = Build(options, "quietr/", watch: false, reloadOnChange: false);
        var reloads = 0;
        using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref reloads));
        await Client.PutStringAsync("quietrother/x", "noise");

        _clock.Advance(Interval);
        var before = _requests.Count;
        await options.GetRefresher().RefreshAsync();

        Assert.True(_requests.Count > before, "The refresh did not ask AzKv.");
        Assert.Equal(0, Volatile.Read(ref reloads));
        Assert.Equal("same", configuration["Greeting"]);
    }

    [Fact]
    public async Task AddAzKv_WhenTheWatchIsOff_ChecksEveryRefreshIntervalWithoutALongPoll()
    {
        await Client.PutStringAsync("pollr/Greeting", "v1");
        var options = new AzKvConfigurationOptions();
        var configuration = Build(options, "pollr/", watch: false, reloadOnChange: true);
        Assert.False(AzKvConfigurationProviderTests.ProviderOf(configuration).RefreshTask!.IsCompleted);

        await Client.PutStringAsync("pollr/Greeting", "v2");
        _clock.Advance(Interval);

        await Eventually.HoldsAsync(() => configuration["Greeting"] == "v2", TimeSpan.FromSeconds(10), "the interval check");
        Assert.DoesNotContain(_requests.Uris, u => u.AbsolutePath == "/v1/watch" && !u.Query.Contains("timeout=0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TryRefreshAsync_WhenAzKvIsUnreachable_ReturnsFalseAndKeepsTheSettings()
    {
        var server = await InProcessServer.StartAsync(_azurite.ConnectionString, InProcessServer.NewContainer());
        using (var client = new AzKvClient(server.Url))
        {
            await client.PutStringAsync("downr/Greeting", "kept");
        }

        var options = new AzKvConfigurationOptions();
        var configuration = Build(options, "downr/", watch: false, reloadOnChange: false, server.Url);
        await server.DisposeAsync();
        _clock.Advance(Interval);

        Assert.False(await options.GetRefresher().TryRefreshAsync());
        await Assert.ThrowsAnyAsync<Exception>(() => options.GetRefresher().RefreshAsync());
        Assert.Equal("kept", configuration["Greeting"]);
    }

    [Fact]
    public async Task RefreshAsync_WhenTheStoreWasWipedAndCreatedAgain_ListsAgainAndDropsKeysOfTheOldStore()
    {
        var port = InProcessServer.GetFreeLoopbackPort();
        var server = await InProcessServer.StartAsync(_azurite.ConnectionString, InProcessServer.NewContainer(), port);
        using (var client = new AzKvClient(server.Url))
        {
            await client.PutStringAsync("wiper/k", "old");
            await client.PutStringAsync("wiper/gone", "only in the old store");
        }

        var options = new AzKvConfigurationOptions();
        var configuration = Build(options, "wiper/", watch: false, reloadOnChange: false, server.Url);
        Assert.Equal("old", configuration["k"]);
        await server.DisposeAsync();

        // A new, empty store on the same URL: the provider's cursor is foreign to it (410).
        await using var wiped = await InProcessServer.StartAsync(_azurite.ConnectionString, InProcessServer.NewContainer(), port);
        using (var client = new AzKvClient(wiped.Url))
        {
            await client.PutStringAsync("wiper/k", "new");
        }

        _clock.Advance(Interval);
        var before = _requests.Count;
        await options.GetRefresher().RefreshAsync();

        Assert.Equal("new", configuration["k"]);
        Assert.Null(configuration["gone"]);
        Assert.Contains(_requests.Uris.Skip(before), u => u.AbsolutePath == "/v1/kv"); // a full list, after the 410

    }

    [Fact]
    public async Task RefreshAsync_WhenTheConfigurationIsNotBuilt_ThrowsSayingSo()
    {
        var options = new AzKvConfigurationOptions().Connect(Server.Url);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => options.GetRefresher().RefreshAsync());

        Assert.Contains("not been built", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(200_000)]
    public void AddAzKv_WhenTheRefreshIntervalIsOutOfRange_ThrowsNamingTheSetting(double seconds)
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder().AddAzKv(o => o
            .Connect(Server.Url)
            .ConfigureRefresh(r => r.SetRefreshInterval(TimeSpan.FromSeconds(seconds)))));

        Assert.Contains("SetRefreshInterval", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAzKvRefresher_WhenTheConfigurationHasAnAzKvSource_ProvidesThatSourcesRefresher()
    {
        await Client.PutStringAsync("dir/Greeting", "v1");
        var options = new AzKvConfigurationOptions();
        var configuration = Build(options, "dir/", watch: false, reloadOnChange: false);
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddAzKvRefresher();
        using var provider = services.BuildServiceProvider();

        var refresher = Assert.Single(provider.GetRequiredService<IConfigurationRefresherProvider>().Refreshers);
        Assert.Same(options.GetRefresher(), refresher);
        await Client.PutStringAsync("dir/Greeting", "v2");
        _clock.Advance(Interval);
        await refresher.RefreshAsync();
        Assert.Equal("v2", configuration["Greeting"]);
    }

    [Fact]
    public void AddAzKvRefresher_WhenTheConfigurationHasNoAzKvSource_ThrowsNamingAddAzKv()
    {
        var services = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build()).AddAzKvRefresher();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IConfigurationRefresherProvider>());

        Assert.Contains("AddAzKv", error.Message, StringComparison.Ordinal);
    }

    private IConfigurationRoot Build(AzKvConfigurationOptions options, string prefix, bool watch, bool reloadOnChange, Uri? url = null)
    {
        options.ReloadOnChange = reloadOnChange;
        options.TimeProvider = _clock;
        options.CacheDirectory = CacheDirectory.Path;
        options.LoggerFactory = TestOutputLoggerFactory.Create(Output);
        var configuration = new ConfigurationBuilder()
            .Add(new AzKvConfigurationSource(options
                .Connect(new AzKvClientOptions
                {
                    Endpoints = [url ?? Server.Url],
                    Handler = _requests,
                    TimeProvider = _clock,
                    MaxRetries = 0,
                    RequestTimeout = TimeSpan.FromSeconds(5),
                })
                .Select(prefix)
                .ConfigureRefresh(r => r.UseWatch(watch).SetRefreshInterval(Interval))))
            .Build();
        _roots.Add(configuration);
        return configuration;
    }

    /// <summary>Passes requests to the network and records their URIs.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly ConcurrentQueue<Uri> _uris = new();

        public int Count => _uris.Count;

        public List<Uri> Uris => [.. _uris];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _uris.Enqueue(request.RequestUri!);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
