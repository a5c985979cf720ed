using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>The watch stream across a node restart: the console shows it reconnecting, then resumes from its last cursor.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LiveStreamConsoleTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly BrowserFixture _browser;
    private readonly string _container = InProcessServer.NewContainer();
    private readonly int _port = InProcessServer.GetFreeLoopbackPort();
    private InProcessServer? _node;

    public LiveStreamConsoleTests(AzuriteFixture azurite, BrowserFixture browser)
    {
        _azurite = azurite;
        _browser = browser;
    }

    public async Task InitializeAsync() => _node = await InProcessServer.StartAsync(_azurite.ConnectionString, _container, _port, nodeId: "live-node");

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    [Fact]
    public async Task LiveBadge_WhenTheNodeRestarts_ShowsReconnectingThenResumesWithoutMissingAChange()
    {
        var url = _node!.Url;
        using var api = new NodeApi(url);
        await api.PutAsync("restart/k", "before");
        await using var console = await ConsoleSession.OpenAsync(_browser.Browser, url);
        console.ExpectHttpError(404, "/v1/auth/me");
        var page = console.Page;
        await page.GotoAsync("/console/keys?key=restart/k");
        await Expect(page.GetByTestId("value")).ToHaveTextAsync("before");
        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");

        // While the node is down (and while it starts) the stream's requests fail or answer 503.
        console.ExpectNetworkFailure("/v1/watch");
        console.ExpectHttpError(503, "/v1/watch");
        await _node.DisposeAsync();
        await Expect(page.Locator("#live")).ToHaveTextAsync("Reconnecting…");
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "reconnecting");
        await console.ScreenshotAsync("live-reconnecting");

        _node = await InProcessServer.StartAsync(_azurite.ConnectionString, _container, _port, nodeId: "live-node");
        await api.PutAsync("restart/k", "after the restart");

        await Expect(page.Locator("#live")).ToHaveTextAsync("Live");
        await Expect(page.GetByTestId("value")).ToHaveTextAsync("after the restart");
        await console.AssertNoConsoleErrorsAsync();
    }
}
