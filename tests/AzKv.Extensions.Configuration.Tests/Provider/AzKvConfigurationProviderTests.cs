using System.Text;
using AzKv.Client;
using AzKv.Extensions.Configuration.Provider;
using AzKv.Extensions.Configuration.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Provider;

/// <summary>The provider against a real node: loading, JSON, prefixes, watch-driven reloads, unreachable stores.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzKvConfigurationProviderTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    /// <summary>The bar: a change made through the API reaches IConfiguration within a second.</summary>
    private static readonly TimeSpan PropagationBudget = TimeSpan.FromSeconds(1);

    private readonly List<IConfigurationRoot> _roots = [];

    public AzKvConfigurationProviderTests(AzuriteFixture azurite, ServerFixture fixture, ITestOutputHelper output)
        : base(azurite, fixture, output)
    {
    }

    protected override void DisposeTestResources()
    {
        foreach (var root in _roots)
        {
            (root as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task AddAzKv_WhenKeysAreUnderTheSelectedPrefix_LoadsThemWithoutThePrefixAndWithColons()
    {
        await Client.PutStringAsync("load/Greeting", "hello");
        await Client.PutStringAsync("load/Logging/LogLevel/Default", "Warning");
        await Client.PutStringAsync("loadother/Greeting", "not mine");

        var configuration = Build(o => o.Select("load/"));

        Assert.Equal("hello", configuration["Greeting"]);
        Assert.Equal("Warning", configuration["Logging:LogLevel:Default"]);
        Assert.Equal(2, configuration.AsEnumerable().Count(e => e.Value is not null));
        Assert.Equal(DataOrigin.Store, ProviderOf(configuration).Origin);
    }

    [Fact]
    public async Task AddAzKv_WhenSelectionsStackWithALabel_TheLaterSelectionWins()
    {
        await Client.PutStringAsync("stack/Color", "plain");
        await Client.PutStringAsync("stack/Size", "M");
        await Client.PutStringAsync("stack/Color", "prod", "red");
        await Client.PutStringAsync("stack/Only", "dev", "not selected");

        var configuration = Build(o => o.Select("stack/").Select("stack/", "prod"));
        var reversed = Build(o => o.Select("stack/", "prod").Select("stack/"));

        Assert.Equal("red", configuration["Color"]);
        Assert.Equal("M", configuration["Size"]);
        Assert.Null(configuration["Only"]);
        Assert.Equal("plain", reversed["Color"]);
    }

    [Fact]
    public async Task AddAzKv_WhenASnapshotIsSelected_LoadsItsFrozenItemsWithFullKeysAsPaths()
    {
        var name = "sel-" + Guid.NewGuid().ToString("N")[..8];
        await Client.PutStringAsync("snapsel1/Color", "blue");
        await Client.PutStringAsync("snapsel1/Logging/Level", "Warning");
        await Client.PutStringAsync("snapsel1/Color", "prod", "red");
        await Client.CreateSnapshotAsync(name, [new AzKvSnapshotFilter("snapsel1/")]);
        await Client.PutStringAsync("snapsel1/Color", "green");
        await Client.PutStringAsync("snapsel1/New", "after");

        var configuration = Build(o => o.SelectSnapshot(name));

        Assert.Equal("blue", configuration["snapsel1:Color"]);
        Assert.Equal("Warning", configuration["snapsel1:Logging:Level"]);
        Assert.Equal(2, configuration.AsEnumerable().Count(e => e.Value is not null));
        Assert.Equal(DataOrigin.Store, ProviderOf(configuration).Origin);
    }

    [Fact]
    public async Task AddAzKv_WhenASnapshotStacksWithSelect_TheLaterSelectionWins()
    {
        var name = "stk-" + Guid.NewGuid().ToString("N")[..8];
        await Client.PutStringAsync("snapsel2/Color", "blue");
        await Client.PutStringAsync("snapsel2/Size", "M");
        await Client.CreateSnapshotAsync(name, [new AzKvSnapshotFilter("snapsel2/")]);
        await Client.PutStringAsync("snapsel2/Color", "green");

        var liveLast = Build(o => o.SelectSnapshot(name).Select("snapsel2/").TrimKeyPrefix("snapsel2/"));
        var snapshotLast = Build(o => o.Select("snapsel2/").SelectSnapshot(name).TrimKeyPrefix("snapsel2/"));

        Assert.Equal("green", liveLast["Color"]);
        Assert.Equal("blue", snapshotLast["Color"]);
        Assert.Equal("M", snapshotLast["Size"]);
    }

    [Fact]
    public void SelectSnapshot_WhenTheNameIsEmpty_Throws()
    {
        var options = new AzKvConfigurationOptions();

        Assert.Throws<ArgumentException>(() => options.SelectSnapshot(string.Empty));
    }

    [Fact]
    public async Task AddAzKv_WhenALabelledSelectedValueChanges_ReachesIConfiguration()
    {
        await Client.PutStringAsync("lwatch/Color", "prod", "red");
        var configuration = Build(o => o.Select("lwatch/", "prod"));
        Assert.Equal("red", configuration["Color"]);

        await Client.PutStringAsync("lwatch/Color", "other label");
        await Client.PutStringAsync("lwatch/Color", "prod", "green");

        await Eventually.HoldsAsync(() => configuration["Color"] == "green", TimeSpan.FromSeconds(10), "the prod change");
        await Client.DeleteAsync("lwatch/Color", "prod", ifMatch: null);
        await Eventually.HoldsAsync(() => configuration["Color"] is null, TimeSpan.FromSeconds(10), "the prod delete");
    }

    [Fact]
    public async Task AddAzKv_WhenTrimKeyPrefixIsGiven_TrimsItInsteadOfTheSelectedPrefix()
    {
        await Client.PutStringAsync("trim/app/Greeting", "hi");
        await Client.PutStringAsync("trim/Other", "o");

        var configuration = Build(o => o.Select("trim/").TrimKeyPrefix("trim/app/"));

        Assert.Equal("hi", configuration["Greeting"]);
        Assert.Equal("o", configuration["Other"]);
    }

    [Fact]
    public async Task AddAzKv_WhenAValueIsStoredAsJson_ExpandsItIntoNestedKeys()
    {
        await Client.PutAsync("json/Db", Encoding.UTF8.GetBytes("""{"Host":"db1","Port":5432,"Replicas":["r1","r2"]}"""), "application/json");

        var configuration = Build(o => o.Select("json/"));

        Assert.Equal("db1", configuration["Db:Host"]);
        Assert.Equal("5432", configuration["Db:Port"]);
        Assert.Equal("r2", configuration["Db:Replicas:1"]);
        Assert.Equal(5432, configuration.GetSection("Db").GetValue<int>("Port"));
    }

    [Fact]
    public async Task AddAzKv_WhenAKeyChangesThroughTheApi_ReachesIConfigurationWithinASecond()
    {
        await Client.PutStringAsync("live/Greeting", "v0");
        var configuration = Build(o => o.Select("live/"));
        Assert.Equal("v0", configuration["Greeting"]);

        var times = new List<TimeSpan>();
        for (var i = 1; i <= 5; i++)
        {
            var expected = "v" + i;
            var started = System.Diagnostics.Stopwatch.StartNew();
            await Client.PutStringAsync("live/Greeting", expected);
            await Eventually.HoldsAsync(() => configuration["Greeting"] == expected, TimeSpan.FromSeconds(10), $"change {i}");
            times.Add(started.Elapsed);
        }

        Output.WriteLine("put → IConfiguration: " + string.Join(", ", times.Select(t => $"{t.TotalMilliseconds:0} ms")));
        Assert.All(times, t => Assert.True(t < PropagationBudget, $"A change took {t.TotalMilliseconds:0} ms to reach IConfiguration."));
    }

    [Fact]
    public async Task AddAzKv_WhenAKeyIsAddedThenDeleted_RaisesTheReloadTokenAndRemovesIt()
    {
        await Client.PutStringAsync("del/Keep", "k");
        var configuration = Build(o => o.Select("del/"));
        var reloads = 0;
        using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref reloads));

        await Client.PutStringAsync("del/Temp", "t");
        await Eventually.HoldsAsync(() => configuration["Temp"] == "t", TimeSpan.FromSeconds(10), "the new key");
        await Client.DeleteAsync("del/Temp");
        // Data is replaced before the token fires: wait for the second reload, not only the data.
        await Eventually.HoldsAsync(
            () => configuration["Temp"] is null && Volatile.Read(ref reloads) >= 2, TimeSpan.FromSeconds(10), "the delete and its reload");

        Assert.Equal("k", configuration["Keep"]);
    }

    [Fact]
    public async Task AddAzKv_WhenKeysOutsideThePrefixChange_DoesNotReload()
    {
        var configuration = Build(o => o.Select("quiet/"));
        var reloads = 0;
        using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref reloads));

        await Client.PutStringAsync("noise/x", "1");
        await Client.PutStringAsync("quiet/Marker", "m");
        // The provider replaces its data before it raises the reload token, so the marker can be
        // visible a moment before the subscription has counted the reload: wait for both.
        await Eventually.HoldsAsync(
            () => configuration["Marker"] == "m" && Volatile.Read(ref reloads) >= 1, TimeSpan.FromSeconds(10), "the marker and its reload");

        Assert.Equal(1, Volatile.Read(ref reloads));
        Assert.Null(configuration["x"]);
    }

    [Fact]
    public async Task Reload_WhenReloadOnChangeIsOff_ReadsTheStoreAgain()
    {
        await Client.PutStringAsync("manual/Greeting", "first");
        var configuration = Build(o =>
        {
            o.Select("manual/");
            o.ReloadOnChange = false;
        });
        Assert.Equal("first", configuration["Greeting"]);
        Assert.Null(ProviderOf(configuration).RefreshTask);

        await Client.PutStringAsync("manual/Greeting", "second");
        configuration.Reload();

        await Eventually.HoldsAsync(() => configuration["Greeting"] == "second", TimeSpan.FromSeconds(10), "the reload");
    }

    [Fact]
    public async Task Reload_WhenWatching_ReloadsAndKeepsWatching()
    {
        await Client.PutStringAsync("rewatch/Greeting", "first");
        var configuration = Build(o => o.Select("rewatch/"));

        configuration.Reload();
        await Client.PutStringAsync("rewatch/Greeting", "second");

        await Eventually.HoldsAsync(() => configuration["Greeting"] == "second", TimeSpan.FromSeconds(10), "a change after the reload");
        Assert.False(ProviderOf(configuration).RefreshTask!.IsCompleted);
    }

    [Fact]
    public async Task AddAzKv_WhenLoaded_WritesTheLastKnownGoodCopy()
    {
        await Client.PutStringAsync("copy/Greeting", "saved");

        var configuration = Build(o => o.Select("copy/"));

        var path = ProviderOf(configuration).CacheFilePath!;
        Assert.StartsWith(CacheDirectory.Path, path, StringComparison.Ordinal);
        Assert.Contains("copy/Greeting", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public void AddAzKv_WhenEveryEndpointIsDownAndThereIsNoCopy_ThrowsAMessageNamingTheEndpointAndTheWayOut()
    {
        var dead = new Uri($"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}");

        var exception = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder()
            .AddAzKv(o =>
            {
                o.Connect(dead).Select("none/");
                o.CacheDirectory = CacheDirectory.Path;
                o.StartupTimeout = TimeSpan.FromSeconds(5);
            })
            .Build());

        Assert.Contains(dead.GetLeftPart(UriPartial.Authority), exception.Message, StringComparison.Ordinal);
        Assert.Contains("no last-known-good copy", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Optional = true", exception.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<AzKvException>(exception.InnerException);
    }

    [Fact]
    public void AddAzKv_WhenOptionalAndEveryEndpointIsDown_StartsWithoutSettings()
    {
        var dead = new Uri($"http://127.0.0.1:{InProcessServer.GetFreeLoopbackPort()}");

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Greeting"] = "default" })
            .AddAzKv(o =>
            {
                o.Connect(dead).Select("none/");
                o.CacheDirectory = CacheDirectory.Path;
                o.Optional = true;
                o.StartupTimeout = TimeSpan.FromSeconds(5);
            })
            .Build();
        _roots.Add(configuration);

        Assert.Equal("default", configuration["Greeting"]);
        Assert.Equal(DataOrigin.None, ProviderOf(configuration).Origin);
    }

    [Fact]
    public async Task AddAzKv_WhenTheFirstEndpointHangs_LoadsFromTheNextWithinTheStartupTimeout()
    {
        await Client.PutStringAsync("hung/Greeting", "from the live node");
        using var hung = new HungEndpoint();
        var started = System.Diagnostics.Stopwatch.StartNew();

        var configuration = new ConfigurationBuilder()
            .AddAzKv(o =>
            {
                o.Connect(hung.Url, Server.Url).Select("hung/");
                o.CacheDirectory = CacheDirectory.Path;
                o.StartupTimeout = TimeSpan.FromSeconds(10);
                o.LoggerFactory = TestOutputLoggerFactory.Create(Output);
            })
            .Build();
        _roots.Add(configuration);

        // Before: each attempt could take the client's 30 s, so the startup budget ran out on the
        // hung node and the live one was never asked.
        Assert.Equal("from the live node", configuration["Greeting"]);
        Assert.Equal(DataOrigin.Store, ProviderOf(configuration).Origin);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"startup took {started.Elapsed}");
    }

    [Theory]
    [InlineData(10, 1, 5)]
    [InlineData(10, 2, 3.333)]
    [InlineData(2, 3, 1)]
    [InlineData(300, 1, 30)]
    public void AttemptTimeout_WhenGivenTheStartupBudget_LeavesRoomForEveryEndpointAndARetry(double startupSeconds, int endpoints, double expectedSeconds)
    {
        var attempt = AzKvConfigurationOptions.AttemptTimeout(TimeSpan.FromSeconds(startupSeconds), endpoints);

        Assert.Equal(expectedSeconds, attempt.TotalSeconds, precision: 3);
    }

    [Fact]
    public void AddAzKv_WhenClientOptionsLetOneHungEndpointUseTheStartupBudget_ThrowsNamingBothSettings()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder()
            .AddAzKv(o =>
            {
                o.Connect(new AzKvClientOptions { Endpoints = [new Uri("http://127.0.0.1:1"), Server.Url], RequestTimeout = TimeSpan.FromSeconds(30) });
                o.StartupTimeout = TimeSpan.FromSeconds(10);
            })
            .Build());

        Assert.Contains("RequestTimeout", exception.Message, StringComparison.Ordinal);
        Assert.Contains("StartupTimeout", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddAzKv_WhenConnectWasNotCalled_ThrowsNamingConnect()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder().AddAzKv(o => o.Select("x/")));

        Assert.Contains("Connect", exception.Message, StringComparison.Ordinal);
    }

    private IConfigurationRoot Build(Action<AzKvConfigurationOptions> select)
    {
        var configuration = new ConfigurationBuilder()
            .AddAzKv(o =>
            {
                o.Connect(Server.Url);
                o.CacheDirectory = CacheDirectory.Path;
                o.LoggerFactory = TestOutputLoggerFactory.Create(Output);
                select(o);
            })
            .Build();
        _roots.Add(configuration);
        return configuration;
    }

    internal static AzKvConfigurationProvider ProviderOf(IConfigurationRoot configuration) =>
        configuration.Providers.OfType<AzKvConfigurationProvider>().Single();
}
