using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>
/// The Conflicts view against two regions (a node each, replicating to each other): concurrent writes
/// in both regions are kept as siblings under the <c>siblings</c> policy (and logged under <c>lww</c>);
/// the console shows every version, the user picks or merges one and resolves it with the context ETag,
/// and both regions end with that one value.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConflictsConsoleTests : IAsyncLifetime
{
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    private readonly AzuriteFixture _azurite;
    private readonly BrowserFixture _browser;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<(string Name, InProcessServer Server)> _regions = [];
    private ConsoleSession _console = null!;

    public ConflictsConsoleTests(AzuriteFixture azurite, BrowserFixture browser)
    {
        _azurite = azurite;
        _browser = browser;
    }

    private IPage Page => _console.Page;

    public async Task InitializeAsync()
    {
        string[] names = ["r1", "r2"];
        var containers = names.Select(_ => InProcessServer.NewContainer()).ToArray();
        for (var r = 0; r < names.Length; r++)
        {
            var other = 1 - r;
            _regions.Add((names[r], await InProcessServer.StartAsync(
                _azurite.ConnectionString,
                containers[r],
                nodeId: names[r] + "-node",
                extraArguments:
                [
                    "--AzKv:Region=" + names[r],
                    "--AzKv:Replication:PollMilliseconds=20",
                    "--AzKv:ConflictPolicies=sib/=siblings",
                    "--AzKv:Peers:0:Region=" + names[other],
                    "--AzKv:Peers:0:ConnectionString=" + _azurite.ConnectionString,
                    "--AzKv:Peers:0:Container=" + containers[other],
                ])));
        }

        _console = await ConsoleSession.OpenAsync(_browser.Browser, _regions[0].Server.Url);
        _console.ExpectHttpError(404, "/v1/auth/me");
    }

    public async Task DisposeAsync()
    {
        await _console.DisposeAsync();
        foreach (var (_, server) in _regions)
        {
            await server.DisposeAsync();
        }

        _http.Dispose();
    }

    [Fact]
    public async Task ConflictsView_WhenBothRegionsWroteAKeyConcurrently_ShowsBothVersionsAndResolvesWithThePickedOne()
    {
        await WriteConcurrentlyAsync("sib/color", "red", "blue", "text/plain; charset=utf-8");
        await WriteConcurrentlyAsync("lww/size", "small", "medium", "text/plain; charset=utf-8");
        await WaitForSiblingsEverywhereAsync("sib/color");

        await Page.GotoAsync("/console/conflicts");

        // Siblings: both versions, with the region that wrote each.
        var key = Page.GetByTestId("siblings-key").Filter(new() { Has = Page.GetByRole(AriaRole.Link, new() { Name = "sib/color" }) });
        await Expect(key.GetByTestId("sibling-version")).ToHaveCountAsync(2);
        var blue = key.GetByTestId("sibling-version").Filter(new() { HasText = "blue" });
        await Expect(blue).ToContainTextAsync("r2");
        await Expect(key.GetByTestId("sibling-version").Filter(new() { HasText = "red" })).ToContainTextAsync("r1");

        // The LWW key: one entry in the conflict log with the loser's value.
        var logged = Page.GetByTestId("conflict-entry").Filter(new() { HasText = "lww/size" });
        await Expect(logged).ToHaveCountAsync(1);
        var winner = await GetTextAsync(_regions[0].Server, "lww/size");
        await Expect(logged).ToContainTextAsync(winner == "small" ? "medium" : "small");

        await blue.GetByRole(AriaRole.Button).ClickAsync();
        await Expect(key.GetByLabel("Resolved value")).ToHaveValueAsync("blue");
        await _console.ScreenshotAsync("conflicts-siblings");
        await key.GetByRole(AriaRole.Button, new() { Name = "Resolve", Exact = true }).ClickAsync();

        await Expect(Page.GetByText("Resolved sib/color: it has one value now.")).ToBeVisibleAsync();
        await Expect(Page.GetByTestId("siblings-status")).ToContainTextAsync("0 keys with siblings");
        await WaitForValueEverywhereAsync("sib/color", "blue");
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task ConflictsView_WhenTheUserMergesTwoVersions_WritesTheMergeWithTheContextAndBothRegionsAgree()
    {
        await WriteConcurrentlyAsync("sib/settings", """{"a":1}""", """{"b":2}""", "application/json");
        await WaitForSiblingsEverywhereAsync("sib/settings");

        await Page.GotoAsync("/console/conflicts");
        var key = Page.GetByTestId("siblings-key").Filter(new() { Has = Page.GetByRole(AriaRole.Link, new() { Name = "sib/settings" }) });
        await Expect(key.GetByTestId("sibling-version")).ToHaveCountAsync(2);

        // Keyboard only: start from version 1, edit it into the merge, resolve.
        await key.GetByRole(AriaRole.Button, new() { Name = "Use version 1" }).FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(key.GetByLabel("Resolved value")).ToBeFocusedAsync();
        await key.GetByLabel("Resolved value").FillAsync("""{"a":1,"b":2}""");
        await Expect(key.GetByLabel("Content type")).ToHaveValueAsync("application/json");
        await key.GetByLabel("Resolved value").PressAsync("Tab");
        await Expect(key.GetByRole(AriaRole.Button, new() { Name = "Resolve", Exact = true })).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Enter");

        await Expect(Page.GetByText("Resolved sib/settings: it has one value now.")).ToBeVisibleAsync();
        await WaitForValueEverywhereAsync("sib/settings", """{"a":1,"b":2}""");
        await _console.AssertNoConsoleErrorsAsync();
    }

    /// <summary>Writes <paramref name="first"/> in r1 and <paramref name="second"/> in r2 while replication is paused, then resumes it.</summary>
    private async Task WriteConcurrentlyAsync(string key, string first, string second, string contentType)
    {
        await SwitchReplicationAsync("pause");
        await PutAsync(_regions[0].Server, key, first, contentType);
        await PutAsync(_regions[1].Server, key, second, contentType);
        await SwitchReplicationAsync("resume");
    }

    private async Task WaitForSiblingsEverywhereAsync(string key)
    {
        await WaitAsync($"{key} has siblings in every region", async () =>
        {
            foreach (var (_, server) in _regions)
            {
                using var response = await _http.GetAsync(new Uri(server.Url, "/v1/kv/" + key));
                if (response.StatusCode != HttpStatusCode.MultipleChoices)
                {
                    return false;
                }

                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (body.RootElement.GetProperty("versions").GetArrayLength() != 2)
                {
                    return false;
                }
            }

            return await CaughtUpAsync();
        });
    }

    private async Task WaitForValueEverywhereAsync(string key, string value)
    {
        await WaitAsync($"{key} is '{value}' in every region", async () =>
        {
            foreach (var (_, server) in _regions)
            {
                using var response = await _http.GetAsync(new Uri(server.Url, "/v1/kv/" + key));
                if (response.StatusCode != HttpStatusCode.OK || await response.Content.ReadAsStringAsync() != value)
                {
                    return false;
                }
            }

            return true;
        });
    }

    private async Task<bool> CaughtUpAsync()
    {
        foreach (var (_, server) in _regions)
        {
            using var cluster = JsonDocument.Parse(await _http.GetStringAsync(new Uri(server.Url, "/v1/cluster")));
            if (!cluster.RootElement.GetProperty("replication").EnumerateArray().All(r => r.GetProperty("caughtUp").GetBoolean()))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Waits on a condition with a deadline (replication is asynchronous).</summary>
    private static async Task WaitAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + ConvergeTimeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not within {ConvergeTimeout}: {what}.");
            await Task.Delay(50);
        }
    }

    private async Task<string> GetTextAsync(InProcessServer server, string key) =>
        await _http.GetStringAsync(new Uri(server.Url, "/v1/kv/" + key));

    private async Task PutAsync(InProcessServer server, string key, string value, string contentType)
    {
        using var content = new StringContent(value, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await _http.PutAsync(new Uri(server.Url, "/v1/kv/" + key), content);
        Assert.True(response.IsSuccessStatusCode, $"PUT {key}: {(int)response.StatusCode}");
    }

    private async Task SwitchReplicationAsync(string action)
    {
        foreach (var (name, server) in _regions)
        {
            var source = _regions.Single(r => r.Name != name).Name;
            using var response = await _http.PostAsync(new Uri(server.Url, $"/v1/replication/{source}/{action}"), null);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
    }
}
