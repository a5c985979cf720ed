using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>The cluster and conflicts views, the router's fallback, and the console-error guard itself.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClusterConsoleTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _server;
    private readonly BrowserFixture _browser;
    private InProcessServer _node = null!;
    private ConsoleSession _console = null!;

    public ClusterConsoleTests(AzuriteFixture azurite, ServerFixture server, BrowserFixture browser)
    {
        _azurite = azurite;
        _server = server;
        _browser = browser;
    }

    private IPage Page => _console.Page;

    public async Task InitializeAsync()
    {
        _node = await _server.GetAsync(_azurite);
        _console = await ConsoleSession.OpenAsync(_browser.Browser, _node.Url);
        _console.ExpectHttpError(404, "/v1/auth/me");
    }

    public async Task DisposeAsync() => await _console.DisposeAsync();

    [Fact]
    public async Task ClusterView_WhenOpened_ShowsTheRegionNodesAndEveryPartitionWithOwnerEpochAndLsn()
    {
        await Page.GotoAsync("/console/cluster");

        await Expect(Page.GetByTestId("region")).ToHaveTextAsync("local");
        var partitions = Page.GetByRole(AriaRole.Region, new() { Name = "Partitions" }).Locator("tbody tr");
        await Expect(partitions).ToHaveCountAsync(4);
        await Expect(partitions.First).ToContainTextAsync("test-node");
        await Expect(Page.GetByRole(AriaRole.Region, new() { Name = "Nodes" })).ToContainTextAsync(_node.Url.ToString().TrimEnd('/'));
        await Expect(Page.GetByRole(AriaRole.Region, new() { Name = "Replication (per source region)" })).ToContainTextAsync("No other regions");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Cluster" })).ToHaveAttributeAsync("aria-current", "page");
        await _console.ScreenshotAsync("cluster-view");
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task ClusterView_WhenAPartitionsLsnMoves_UpdatesWithoutAReload()
    {
        await Page.GotoAsync("/console/cluster");
        var partitions = Page.GetByRole(AriaRole.Region, new() { Name = "Partitions" }).Locator("tbody tr");
        await Expect(partitions).ToHaveCountAsync(4);
        var before = await partitions.AllInnerTextsAsync();

        using var api = new NodeApi(_node.Url);
        for (var i = 0; i < 8; i++)
        {
            await api.PutAsync($"cluster/k{i}", "v");
        }

        await Expect(partitions).Not.ToHaveTextAsync([.. before]);
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task Navigation_WhenLinksAreFollowedByKeyboard_RoutesOnTheClientAndBackWorks()
    {
        await Page.GotoAsync("/console/conflicts");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Conflict log (last writer wins)" })).ToBeVisibleAsync();
        await Expect(Page.GetByText("No conflicts recorded.")).ToBeVisibleAsync();
        await Page.EvaluateAsync("() => { window.azkvNoReload = 'same page'; }");

        await Page.GetByRole(AriaRole.Link, new() { Name = "Feature flags" }).FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page).ToHaveURLAsync(new Uri(_node.Url, "/console/flags").ToString());
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Feature flags", Level = 1 })).ToBeVisibleAsync();

        await Page.GoBackAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Conflicts", Level = 1 })).ToBeVisibleAsync();
        Assert.Equal("same page", await Page.EvaluateAsync<string>("() => window.azkvNoReload"));
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task AssertNoConsoleErrors_WhenThePageLogsAnError_Fails()
    {
        await Page.GotoAsync("/console/keys");
        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");

        await Page.EvaluateAsync("() => console.error('broken on purpose')");

        var failure = await Assert.ThrowsAnyAsync<Exception>(_console.AssertNoConsoleErrorsAsync);
        Assert.Contains("broken on purpose", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssertNoConsoleErrors_WhenARequestFailsThatTheTestDidNotExpect_Fails()
    {
        await Page.GotoAsync("/console/keys");
        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");

        await Page.EvaluateAsync("() => fetch('/v1/kv/does/not/exist').then(r => r.status)");

        var failure = await Assert.ThrowsAnyAsync<Exception>(_console.AssertNoConsoleErrorsAsync);
        Assert.Contains("404", failure.Message, StringComparison.Ordinal);
    }
}
