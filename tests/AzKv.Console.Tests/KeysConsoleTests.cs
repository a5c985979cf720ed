using System.Text.Json;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>The keys view of /console in Chromium against a live node on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class KeysConsoleTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _server;
    private readonly BrowserFixture _browser;
    private InProcessServer _node = null!;
    private NodeApi _api = null!;
    private ConsoleSession _console = null!;

    public KeysConsoleTests(AzuriteFixture azurite, ServerFixture server, BrowserFixture browser)
    {
        _azurite = azurite;
        _server = server;
        _browser = browser;
    }

    private IPage Page => _console.Page;

    public async Task InitializeAsync()
    {
        _node = await _server.GetAsync(_azurite);
        _api = new NodeApi(_node.Url);
        _console = await ConsoleSession.OpenAsync(_browser.Browser, _node.Url);

        // This node has no authentication: /v1/auth/me answers 404, which the console reads as "open node".
        _console.ExpectHttpError(404, "/v1/auth/me");
    }

    public async Task DisposeAsync()
    {
        await _console.DisposeAsync();
        _api.Dispose();
    }

    [Fact]
    public async Task KeysView_WhenAKeyIsCreatedEditedAndDeleted_WritesEachChangeThroughTheApi()
    {
        await Page.GotoAsync("/console/keys?prefix=crud/");
        await Expect(Page.GetByText("No keys under this prefix.")).ToBeVisibleAsync();

        await Page.GetByRole(AriaRole.Button, new() { Name = "New key" }).ClickAsync();
        await Page.GetByLabel("Key", new() { Exact = true }).FillAsync("crud/app/settings");
        await Page.GetByLabel("Content type").FillAsync("application/json");
        await Page.GetByLabel("Value").FillAsync("""{"color":"blue","size":3}""");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();

        await Expect(Page.GetByTestId("key-title")).ToHaveTextAsync("crud/app/settings");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("{\n  \"color\": \"blue\",\n  \"size\": 3\n}");
        var created = await _api.GetAsync("crud/app/settings");
        Assert.Equal("""{"color":"blue","size":3}""", created?.Value);
        Assert.Equal("application/json", created?.ContentType);
        await _console.ScreenshotAsync("keys-view");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Page.GetByLabel("Value").FillAsync("""{"color":"green","size":4}""");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(Page.GetByTestId("value")).ToContainTextAsync("\"green\"");
        Assert.Equal("""{"color":"green","size":4}""", (await _api.GetAsync("crud/app/settings"))?.Value);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this key" }).ClickAsync();
        await Expect(Page.GetByText("Deleted crud/app/settings.")).ToBeVisibleAsync();
        await Expect(Page.GetByText("No keys under this prefix.")).ToBeVisibleAsync();
        Assert.Null(await _api.GetAsync("crud/app/settings"));

        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeyEdit_WhenAnotherWriterChangedTheKey_ShowsBothVersionsAndOverwritesOnlyWhenAsked()
    {
        await _api.PutAsync("race/color", "blue");
        await Page.GotoAsync("/console/keys?key=race/color");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("blue");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Page.GetByLabel("Value").FillAsync("green (mine)");
        await _api.PutAsync("race/color", "red (theirs)");
        _console.ExpectHttpError(412, "/v1/kv/race/");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(Page.GetByTestId("conflict")).ToBeVisibleAsync();
        await Expect(Page.GetByTestId("conflict-mine")).ToHaveTextAsync("green (mine)");
        await Expect(Page.GetByTestId("conflict-theirs")).ToHaveTextAsync("red (theirs)");
        Assert.Equal("red (theirs)", (await _api.GetAsync("race/color"))?.Value);
        await _console.ScreenshotAsync("keys-conflict");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Overwrite with my version" }).ClickAsync();
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("green (mine)");
        Assert.Equal("green (mine)", (await _api.GetAsync("race/color"))?.Value);

        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeyDelete_WhenTheKeyChangedSinceItWasOpened_DeletesNothingAndOffersAReload()
    {
        await _api.PutAsync("race/delete", "one");
        await Page.GotoAsync("/console/keys?key=race/delete");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("one");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await _api.PutAsync("race/delete", "two");
        _console.ExpectHttpError(412, "/v1/kv/race/");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this key" }).ClickAsync();

        await Expect(Page.GetByTestId("conflict-theirs")).ToHaveTextAsync("two");
        Assert.Equal("two", (await _api.GetAsync("race/delete"))?.Value);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Reload (discard mine)" }).ClickAsync();
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("two");

        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeysView_WhenAnotherClientWrites_ShowsTheChangeFromTheWatchStreamWithoutAReload()
    {
        await _api.PutAsync("live/a", "first");
        await Page.GotoAsync("/console/keys?key=live/a");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("first");
        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");
        await Page.EvaluateAsync("() => { window.azkvNoReload = 'still here'; }");

        await _api.PutAsync("live/a", "second");
        await _api.PutAsync("live/b", "new key");

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("second");
        await Expect(Page.GetByTestId("key-note")).ToContainTextAsync("Updated live");
        await Expect(Page.Locator("a[data-key='live/b']")).ToBeVisibleAsync();
        Assert.Equal("still here", await Page.EvaluateAsync<string>("() => window.azkvNoReload"));

        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeysView_WhenAPrefixHoldsMoreThanAPage_LoadsTheNextPageWithTheCursor()
    {
        for (var i = 0; i < 205; i++)
        {
            await _api.PutAsync($"paged/k{i:D3}", "v");
        }

        await Page.GotoAsync("/console/keys?prefix=paged/");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Load more (200 shown)" })).ToBeVisibleAsync();
        await Expect(Page.Locator("a[data-key='paged/k204']")).ToHaveCountAsync(0);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Load more (200 shown)" }).ClickAsync();
        await Expect(Page.Locator("a[data-key='paged/k204']")).ToBeVisibleAsync();
        await Expect(Page.GetByText("205 keys")).ToBeVisibleAsync();

        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task ValueView_WhenTheValueIsBinary_ShowsHexAndSize()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/bin/blob") { Content = new ByteArrayContent([0x00, 0x01, 0xfe, 0xff, 0x10]) })
        {
            request.Content.Headers.ContentType = new("application/octet-stream");
            using var response = await _api.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode);
        }

        await Page.GotoAsync("/console/keys?key=bin/blob");

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("00000000  00 01 fe ff 10");
        await Expect(Page.GetByText("5 B", new() { Exact = true })).ToBeVisibleAsync();
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task TokenInTheFragment_WhenTheConsoleOpens_IsKeptInSessionStorageSentAsBearerAndRemovedFromTheUrl()
    {
        var authorizations = new List<string>();
        Page.Request += (_, request) =>
        {
            if (new Uri(request.Url).AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal))
            {
                lock (authorizations)
                {
                    authorizations.Add(request.Headers.TryGetValue("authorization", out var value) ? value : "(none)");
                }
            }

            Assert.DoesNotContain("s3cr3t", request.Url, StringComparison.Ordinal);
        };

        await Page.GotoAsync("/console/keys#token=s3cr3t-token");

        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");
        Assert.Equal("/console/keys", new Uri(Page.Url).PathAndQuery);
        Assert.DoesNotContain("s3cr3t", Page.Url, StringComparison.Ordinal);
        Assert.Equal("s3cr3t-token", await Page.EvaluateAsync<string>("() => sessionStorage.getItem('azkv.console.token')"));
        lock (authorizations)
        {
            Assert.NotEmpty(authorizations);
            Assert.All(authorizations, a => Assert.Equal("Bearer s3cr3t-token", a));
        }

        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeysView_WhenTheScreenIsNarrow_FitsWithoutHorizontalScrolling()
    {
        await _api.PutAsync("narrow/a/very/long/key/that/should/wrap/instead/of/scrolling/sideways", JsonSerializer.Serialize(new { text = new string('x', 300) }), "application/json");
        await using var phone = await ConsoleSession.OpenAsync(_browser.Browser, _node.Url, width: 390, height: 800);
        phone.ExpectHttpError(404, "/v1/auth/me");

        await phone.Page.GotoAsync("/console/keys?key=narrow/a/very/long/key/that/should/wrap/instead/of/scrolling/sideways");
        await Expect(phone.Page.GetByTestId("value")).ToContainTextAsync("xxxx");

        var overflow = await phone.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"The page is {overflow} px wider than a 390 px screen.");
        await phone.ScreenshotAsync("keys-narrow");
        await phone.AssertNoConsoleErrorsAsync();
    }
}
