using System.Text.Json;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>The keys view of /console in Chromium against a live node on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class KeysConsoleTests(AzuriteFixture azurite, ServerFixture server, BrowserFixture browser)
    : SharedNodeConsoleTests(azurite, server, browser)
{
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
        var created = await Api.GetAsync("crud/app/settings");
        Assert.Equal("""{"color":"blue","size":3}""", created?.Value);
        Assert.Equal("application/json", created?.ContentType);
        await Session.ScreenshotAsync("keys-view");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Page.GetByLabel("Value").FillAsync("""{"color":"green","size":4}""");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(Page.GetByTestId("value")).ToContainTextAsync("\"green\"");
        Assert.Equal("""{"color":"green","size":4}""", (await Api.GetAsync("crud/app/settings"))?.Value);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this key" }).ClickAsync();
        await Expect(Page.GetByText("Deleted crud/app/settings.")).ToBeVisibleAsync();
        await Expect(Page.GetByText("No keys under this prefix.")).ToBeVisibleAsync();
        Assert.Null(await Api.GetAsync("crud/app/settings"));

        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeyEdit_WhenAnotherWriterChangedTheKey_ShowsBothVersionsAndOverwritesOnlyWhenAsked()
    {
        await Api.PutAsync("race/color", "blue");
        await Page.GotoAsync("/console/keys?key=race/color");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("blue");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Page.GetByLabel("Value").FillAsync("green (mine)");
        await Api.PutAsync("race/color", "red (theirs)");
        Session.ExpectHttpError(412, "/v1/kv/race/");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(Page.GetByTestId("conflict")).ToBeVisibleAsync();
        await Expect(Page.GetByTestId("conflict-mine")).ToHaveTextAsync("green (mine)");
        await Expect(Page.GetByTestId("conflict-theirs")).ToHaveTextAsync("red (theirs)");
        Assert.Equal("red (theirs)", (await Api.GetAsync("race/color"))?.Value);
        await Session.ScreenshotAsync("keys-conflict");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Overwrite with my version" }).ClickAsync();
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("green (mine)");
        Assert.Equal("green (mine)", (await Api.GetAsync("race/color"))?.Value);

        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeyDelete_WhenTheKeyChangedSinceItWasOpened_DeletesNothingAndOffersAReload()
    {
        await Api.PutAsync("race/delete", "one");
        await Page.GotoAsync("/console/keys?key=race/delete");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("one");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Api.PutAsync("race/delete", "two");
        Session.ExpectHttpError(412, "/v1/kv/race/");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this key" }).ClickAsync();

        await Expect(Page.GetByTestId("conflict-theirs")).ToHaveTextAsync("two");
        Assert.Equal("two", (await Api.GetAsync("race/delete"))?.Value);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Reload (discard mine)" }).ClickAsync();
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("two");

        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeysView_WhenAnotherClientWrites_ShowsTheChangeFromTheWatchStreamWithoutAReload()
    {
        await Api.PutAsync("live/a", "first");
        await Page.GotoAsync("/console/keys?key=live/a");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("first");
        await Expect(Page.Locator("#live")).ToHaveTextAsync("Live");
        await Page.EvaluateAsync("() => { window.azkvNoReload = 'still here'; }");

        await Api.PutAsync("live/a", "second");
        await Api.PutAsync("live/b", "new key");

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("second");
        await Expect(Page.GetByTestId("key-note")).ToContainTextAsync("Updated live");
        await Expect(Page.Locator("a[data-key='live/b']")).ToBeVisibleAsync();
        Assert.Equal("still here", await Page.EvaluateAsync<string>("() => window.azkvNoReload"));

        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeysView_WhenAPrefixHoldsMoreThanAPage_LoadsTheNextPageWithTheCursor()
    {
        for (var i = 0; i < 205; i++)
        {
            await Api.PutAsync($"paged/k{i:D3}", "v");
        }

        await Page.GotoAsync("/console/keys?prefix=paged/");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Load more (200 shown)" })).ToBeVisibleAsync();
        await Expect(Page.Locator("a[data-key='paged/k204']")).ToHaveCountAsync(0);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Load more (200 shown)" }).ClickAsync();
        await Expect(Page.Locator("a[data-key='paged/k204']")).ToBeVisibleAsync();
        await Expect(Page.GetByText("205 keys")).ToBeVisibleAsync();

        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task ValueView_WhenTheValueIsBinary_ShowsHexAndSize()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/bin/blob") { Content = new ByteArrayContent([0x00, 0x01, 0xfe, 0xff, 0x10]) })
        {
            request.Content.Headers.ContentType = new("application/octet-stream");
            using var response = await Api.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode);
        }

        await Page.GotoAsync("/console/keys?key=bin/blob");

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("00000000  00 01 fe ff 10");
        await Expect(Page.GetByText("5 B", new() { Exact = true })).ToBeVisibleAsync();
        await Session.AssertNoConsoleErrorsAsync();
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

        await Session.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeysView_WhenTheScreenIsNarrow_FitsWithoutHorizontalScrolling()
    {
        await Api.PutAsync("narrow/a/very/long/key/that/should/wrap/instead/of/scrolling/sideways", JsonSerializer.Serialize(new { text = new string('x', 300) }), "application/json");
        await using var phone = await ConsoleSession.OpenAsync(Browser, Node.Url, width: 390, height: 800);
        phone.ExpectHttpError(404, "/v1/auth/me");

        await phone.Page.GotoAsync("/console/keys?key=narrow/a/very/long/key/that/should/wrap/instead/of/scrolling/sideways");
        await Expect(phone.Page.GetByTestId("value")).ToContainTextAsync("xxxx");

        var overflow = await phone.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"The page is {overflow} px wider than a 390 px screen.");
        await phone.ScreenshotAsync("keys-narrow");
        await phone.AssertNoConsoleErrorsAsync();
    }
}
