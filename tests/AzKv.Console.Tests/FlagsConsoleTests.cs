using System.Text;
using System.Text.Json;
using AzKv.Extensions.Configuration;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.FeatureManagement;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>The feature-flag view of /console, and an application that reads the flags through the configuration provider.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class FlagsConsoleTests(AzuriteFixture azurite, ServerFixture server, BrowserFixture browser)
    : SharedNodeConsoleTests(azurite, server, browser)
{
    private const string FlagContentType = "application/vnd.microsoft.appconfig.ff+json; charset=utf-8";

    private readonly string _cacheDirectory = Path.Combine(Path.GetTempPath(), "azkv-console-tests-" + Guid.NewGuid().ToString("N"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_cacheDirectory))
        {
            Directory.Delete(_cacheDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task FlagToggle_WhenSwitchedOnInTheConsole_ReachesIFeatureManagerOfARunningApp()
    {
        await Api.PutAsync(".appconfig.featureflag/Checkout", """{"id":"Checkout","enabled":false,"conditions":{"client_filters":[]}}""", FlagContentType);
        using var configuration = (ConfigurationRoot)new ConfigurationBuilder()
            .AddAzKv(o =>
            {
                o.Connect(Node.Url).UseFeatureFlags();
                o.CacheDirectory = _cacheDirectory;
            })
            .Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddFeatureManagement().Services
            .BuildServiceProvider();
        var features = services.GetRequiredService<IFeatureManager>();
        Assert.False(await features.IsEnabledAsync("Checkout"));

        await Page.GotoAsync("/console/flags");
        var toggle = Page.GetByRole(AriaRole.Switch, new() { Name = "Checkout enabled" });
        await Expect(toggle).ToHaveAttributeAsync("aria-checked", "false");
        await toggle.FocusAsync();
        await Page.Keyboard.PressAsync("Space");
        await Expect(toggle).ToHaveAttributeAsync("aria-checked", "true");
        await Expect(toggle).ToBeFocusedAsync();
        await Session.ScreenshotAsync("flags-view");

        await WhenReloadedUntilAsync(configuration, () => features.IsEnabledAsync("Checkout"), TimeSpan.FromSeconds(30));
        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task FlagEditor_WhenAFlagIsCreatedWithPercentageAndTargeting_StoresTheMicrosoftSchemaAndDeletes()
    {
        await Page.GotoAsync("/console/flags");
        await Page.GetByRole(AriaRole.Button, new() { Name = "New flag" }).ClickAsync();
        await Page.GetByLabel("Name", new() { Exact = true }).FillAsync("Search.v2");
        await Page.GetByLabel("Description").FillAsync("New search");
        await Page.GetByLabel("Enabled", new() { Exact = true }).CheckAsync();
        await Page.GetByLabel("On for a percentage of evaluations").CheckAsync();
        await Page.GetByLabel("Percentage (0–100)").FillAsync("25");
        await Page.GetByLabel("On for an audience").CheckAsync();
        await Page.GetByLabel("Users (comma-separated)").FillAsync("ana@contoso.com, bo@contoso.com");
        await Page.GetByLabel("Groups (one per line: name=percentage)").FillAsync("beta=50\nstaff=100");
        await Page.GetByLabel("Default rollout percentage").FillAsync("5");
        await Page.GetByLabel("Excluded users").FillAsync("eve@contoso.com");
        await Session.ScreenshotAsync("flags-editor");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create flag" }).ClickAsync();

        var row = Page.Locator("tr[data-flag='Search.v2']");
        await Expect(row).ToContainTextAsync("25% of evaluations");
        await Expect(row).ToContainTextAsync("Targeting: 2 users; beta 50%, staff 100%; default 5%");
        var stored = await Api.GetAsync(".appconfig.featureflag/Search.v2");
        Assert.Equal(FlagContentType, stored?.ContentType);
        using var doc = JsonDocument.Parse(stored!.Value.Value);
        var root = doc.RootElement;
        Assert.Equal("Search.v2", root.GetProperty("id").GetString());
        Assert.True(root.GetProperty("enabled").GetBoolean());
        var filters = root.GetProperty("conditions").GetProperty("client_filters");
        Assert.Equal("Microsoft.Percentage", filters[0].GetProperty("name").GetString());
        Assert.Equal(25, filters[0].GetProperty("parameters").GetProperty("Value").GetInt32());
        var audience = filters[1].GetProperty("parameters").GetProperty("Audience");
        Assert.Equal("Microsoft.Targeting", filters[1].GetProperty("name").GetString());
        Assert.Equal(["ana@contoso.com", "bo@contoso.com"], audience.GetProperty("Users").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal(50, audience.GetProperty("Groups")[0].GetProperty("RolloutPercentage").GetInt32());
        Assert.Equal(5, audience.GetProperty("DefaultRolloutPercentage").GetInt32());
        Assert.Equal("eve@contoso.com", audience.GetProperty("Exclusion").GetProperty("Users")[0].GetString());

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete Search.v2" }).ClickAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete Search.v2" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        Assert.Null(await Api.GetAsync(".appconfig.featureflag/Search.v2"));
        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task FlagEditor_WhenEditingAFlagWithVariants_KeepsTheFieldsItDoesNotEdit()
    {
        await Api.PutAsync(".appconfig.featureflag/Theme", """
            {"id":"Theme","enabled":true,"conditions":{"client_filters":[{"name":"Microsoft.Percentage","parameters":{"Value":10}}]},
             "variants":[{"name":"Dark"},{"name":"Light"}],"allocation":{"default_when_enabled":"Dark"}}
            """, FlagContentType);
        await Page.GotoAsync("/console/flags");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Edit Theme" }).ClickAsync();
        await Page.GetByLabel("Percentage (0–100)").FillAsync("90");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save flag" }).ClickAsync();

        await Expect(Page.Locator("tr[data-flag='Theme']")).ToContainTextAsync("90% of evaluations");
        using var doc = JsonDocument.Parse((await Api.GetAsync(".appconfig.featureflag/Theme"))!.Value.Value);
        Assert.Equal(90, doc.RootElement.GetProperty("conditions").GetProperty("client_filters")[0].GetProperty("parameters").GetProperty("Value").GetInt32());
        Assert.Equal("Dark", doc.RootElement.GetProperty("allocation").GetProperty("default_when_enabled").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("variants").GetArrayLength());
        await Session.AssertNoConsoleErrorsAsync();
    }

    /// <summary>
    /// Waits for <paramref name="condition"/> to hold, checking it again each time the configuration
    /// reloads (the provider raises the reload token on every change it applies): no polling sleep.
    /// </summary>
    private static async Task WhenReloadedUntilAsync(IConfigurationRoot configuration, Func<Task<bool>> condition, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (true)
        {
            var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = ChangeToken.OnChange(configuration.GetReloadToken, () => reloaded.TrySetResult());
            if (await condition())
            {
                return;
            }

            await reloaded.Task.WaitAsync(timeout.Token);
        }
    }
}
