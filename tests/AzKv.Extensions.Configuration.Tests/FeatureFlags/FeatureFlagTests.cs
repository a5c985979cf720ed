using System.Text;
using AzKv.Client;
using AzKv.Extensions.Configuration.Tests.Support;
using AzKv.Testing.Azurite;
using AzKv.Testing.Cli;
using AzKv.Testing.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Xunit.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.FeatureFlags;

/// <summary>Feature flags from AzKv through the provider into an unchanged Microsoft.FeatureManagement 4.7, written by the API and by the CLI.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class FeatureFlagTests : LiveNodeTests, IClassFixture<ServerFixture>
{
    private static readonly TimeSpan PropagationBudget = TimeSpan.FromSeconds(1);

    private readonly List<IDisposable> _disposables = [];

    public FeatureFlagTests(AzuriteFixture azurite, ServerFixture fixture, ITestOutputHelper output)
        : base(azurite, fixture, output)
    {
    }

    protected override void DisposeTestResources()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }
    }

    [Fact]
    public async Task IsEnabledAsync_WhenAFlagIsEnabledThroughTheApi_TurnsTrueWithinASecond()
    {
        await PutFlagAsync("ApiBeta", """{"id":"ApiBeta","enabled":false,"conditions":{"client_filters":[]}}""");
        var features = Start();
        Assert.False(await features.IsEnabledAsync("ApiBeta"));

        var started = System.Diagnostics.Stopwatch.StartNew();
        await PutFlagAsync("ApiBeta", """{"id":"ApiBeta","enabled":true,"conditions":{"client_filters":[]}}""");
        await Eventually.HoldsAsync(() => features.IsEnabledAsync("ApiBeta"), TimeSpan.FromSeconds(10), "enabling the flag");
        var elapsed = started.Elapsed;

        Output.WriteLine($"put → IFeatureManager: {elapsed.TotalMilliseconds:0} ms");
        Assert.True(elapsed < PropagationBudget, $"The flag took {elapsed.TotalMilliseconds:0} ms to reach IFeatureManager.");
    }

    [Fact]
    public async Task FlagCommands_WhenRunThroughTheCli_RoundTripToIFeatureManager()
    {
        var features = Start();

        var set = await CliRunner.RunAsync(Server.Url, "flag", "set", "CliBeta", "--enabled");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal("CliBeta enabled created", set.StdoutText.Trim());
        await Eventually.HoldsAsync(() => features.IsEnabledAsync("CliBeta"), TimeSpan.FromSeconds(10), "flag set --enabled");

        var disable = await CliRunner.RunAsync(Server.Url, "flag", "disable", "CliBeta");
        Assert.True(disable.ExitCode == 0, disable.ToString());
        await Eventually.HoldsAsync(async () => !await features.IsEnabledAsync("CliBeta"), TimeSpan.FromSeconds(10), "flag disable");

        var nobody = await CliRunner.RunAsync(Server.Url, "flag", "set", "CliPercent", "--enabled", "--filter", """{"name":"Microsoft.Percentage","parameters":{"Value":0}}""");
        Assert.True(nobody.ExitCode == 0, nobody.ToString());
        await Eventually.HoldsAsync(async () => await features.GetFeatureNamesAsync().AnyAsync(n => n == "CliPercent"), TimeSpan.FromSeconds(10), "the percentage flag");
        Assert.False(await features.IsEnabledAsync("CliPercent"));

        var everybody = await CliRunner.RunAsync(Server.Url, "flag", "set", "CliPercent", "--filter", """{"name":"Microsoft.Percentage","parameters":{"Value":100}}""");
        Assert.True(everybody.ExitCode == 0, everybody.ToString());
        Assert.Equal("CliPercent enabled replaced", everybody.StdoutText.Trim());
        await Eventually.HoldsAsync(() => features.IsEnabledAsync("CliPercent"), TimeSpan.FromSeconds(10), "100 % of users");

        var stored = await Client.GetAsync(AzKvFeatureFlags.KeyFor("CliPercent"));
        Assert.Equal(AzKvFeatureFlags.ContentType, stored!.ContentType);
        Assert.Equal(
            """{"id":"CliPercent","enabled":true,"conditions":{"client_filters":[{"name":"Microsoft.Percentage","parameters":{"Value":100}}]}}""",
            stored.GetString());
    }

    [Fact]
    public async Task FlagSet_WhenTheFlagHasVariantsAndAllocation_KeepsThemAndIFeatureManagerAssignsTheVariant()
    {
        await PutFlagAsync("Variants", """
            {"id":"Variants","enabled":false,
             "variants":[{"name":"Big","configuration_value":{"Size":10}},{"name":"Off","configuration_value":{"Size":0}}],
             "allocation":{"default_when_enabled":"Big","default_when_disabled":"Off"}}
            """);
        var services = StartServices();
        var variants = services.GetRequiredService<IVariantFeatureManager>();

        var set = await CliRunner.RunAsync(Server.Url, "flag", "enable", "Variants");
        Assert.True(set.ExitCode == 0, set.ToString());
        await Eventually.HoldsAsync(() => variants.IsEnabledAsync("Variants", CancellationToken.None).AsTask(), TimeSpan.FromSeconds(10), "flag enable");

        var variant = await variants.GetVariantAsync("Variants", CancellationToken.None);
        Assert.Equal("Big", variant.Name);
        Assert.Equal(10, variant.Configuration.GetValue<int>("Size"));
    }

    [Fact]
    public async Task FlagList_WhenFlagsExist_PrintsNameStateAndFilters()
    {
        await PutFlagAsync("ListA", """{"id":"ListA","enabled":true,"conditions":{"client_filters":[{"name":"Microsoft.Targeting"}]}}""");
        await PutFlagAsync("ListB", """{"id":"ListB","enabled":false}""");

        var list = await CliRunner.RunAsync(Server.Url, "flag", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("ListA", StringComparison.Ordinal) && l.Contains("yes", StringComparison.Ordinal) && l.EndsWith("Microsoft.Targeting", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ListB", StringComparison.Ordinal) && l.Contains("no", StringComparison.Ordinal) && l.EndsWith('-'));
    }

    [Fact]
    public async Task FlagEnable_WhenTheFlagDoesNotExist_ExitsWithNotFoundAndCreatesNothing()
    {
        var result = await CliRunner.RunAsync(Server.Url, "flag", "enable", "Typo");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("flag set Typo", result.Stderr, StringComparison.Ordinal);
        Assert.Null(await Client.GetAsync(AzKvFeatureFlags.KeyFor("Typo")));
    }

    [Fact]
    public async Task FlagSet_WhenTheNameOrFilterIsInvalid_RefusesBeforeWriting()
    {
        var badName = await CliRunner.RunAsync(Server.Url, "flag", "set", "a:b", "--enabled");
        var badFilter = await CliRunner.RunAsync(Server.Url, "flag", "set", "Good", "--filter", "{\"parameters\":{}}");

        Assert.NotEqual(0, badName.ExitCode);
        Assert.Contains("not a valid flag name", badName.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, badFilter.ExitCode);
        Assert.Contains("\"name\"", badFilter.Stderr, StringComparison.Ordinal);
        Assert.Null(await Client.GetAsync(AzKvFeatureFlags.KeyFor("Good")));
    }

    private Task PutFlagAsync(string name, string json) =>
        Client.PutAsync(AzKvFeatureFlags.KeyFor(name), Encoding.UTF8.GetBytes(json), AzKvFeatureFlags.ContentType);

    private IFeatureManager Start() => StartServices().GetRequiredService<IFeatureManager>();

    private ServiceProvider StartServices()
    {
        var configuration = new ConfigurationBuilder()
            .AddAzKv(o =>
            {
                o.Connect(Server.Url).UseFeatureFlags();
                o.CacheDirectory = CacheDirectory.Path;
                o.LoggerFactory = TestOutputLoggerFactory.Create(Output);
            })
            .Build();
        _disposables.Add((IDisposable)configuration);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddFeatureManagement();
        var provider = services.BuildServiceProvider();
        _disposables.Add(provider);
        return provider;
    }
}
