using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>The cluster and conflicts views, the router's fallback, and the console-error guard itself.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClusterConsoleTests(AzuriteFixture azurite, ServerFixture server, BrowserFixture browser)
    : SharedNodeConsoleTests(azurite, server, browser)
{
    [Fact]
    public async Task ClusterView_WhenOpened_ShowsTheRegionNodesAndEveryPartitionWithOwnerEpochAndLsn()
    {
        await Page.GotoAsync("/console/cluster");

        await Expect(Page.GetByTestId("region")).ToHaveTextAsync("local");
        var partitions = Page.GetByRole(AriaRole.Region, new() { Name = "Partitions" }).Locator("tbody tr");
        await Expect(partitions).ToHaveCountAsync(4);
        await Expect(partitions.First).ToContainTextAsync("test-node");
        await Expect(Page.GetByRole(AriaRole.Region, new() { Name = "Nodes" })).ToContainTextAsync(Node.Url.ToString().TrimEnd('/'));
        await Expect(Page.GetByRole(AriaRole.Region, new() { Name = "Replication (per source region)" })).ToContainTextAsync("No other regions");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Cluster" })).ToHaveAttributeAsync("aria-current", "page");
        await Session.ScreenshotAsync("cluster-view");
        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task ClusterView_WhenAPartitionsLsnMoves_UpdatesWithoutAReload()
    {
        await Page.GotoAsync("/console/cluster");
        var partitions = Page.GetByRole(AriaRole.Region, new() { Name = "Partitions" }).Locator("tbody tr");
        await Expect(partitions).ToHaveCountAsync(4);
        var before = await partitions.AllInnerTextsAsync();

        using var api = new NodeApi(Node.Url);
        for (var i = 0; i < 8; i++)
        {
            await api.PutAsync($"cluster/k{i}", "v");
        }

        await Expect(partitions).Not.ToHaveTextAsync([.. before]);
        await Session.AssertNoConsoleErrorsAsync();
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
        await Expect(Page).ToHaveURLAsync(new Uri(Node.Url, "/console/flags").ToString());
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Feature flags", Level = 1 })).ToBeVisibleAsync();

        await Page.GoBackAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Conflicts", Level = 1 })).ToBeVisibleAsync();
        Assert.Equal("same page", await Page.EvaluateAsync<string>("() => window.azkvNoReload"));
        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task AssertNoConsoleErrors_WhenThePageLogsAnError_Fails()
    {
        await Page.GotoAsync("/console/keys");
        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");

        await Page.EvaluateAsync("() => console.error('broken on purpose')");

        var failure = await Assert.ThrowsAnyAsync<Exception>(Session.AssertNoConsoleErrorsAsync);
        Assert.Contains("broken on purpose", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssertNoConsoleErrors_WhenARequestFailsThatTheTestDidNotExpect_Fails()
    {
        await Page.GotoAsync("/console/keys");
        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");

        await Page.EvaluateAsync("() => fetch('/v1/kv/does/not/exist').then(r => r.status)");

        var failure = await Assert.ThrowsAnyAsync<Exception>(Session.AssertNoConsoleErrorsAsync);
        Assert.Contains("404", failure.Message, StringComparison.Ordinal);
    }
}
