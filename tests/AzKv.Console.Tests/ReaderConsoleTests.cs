using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>
/// The console on a node with authentication (the local issuer, as <c>azkv up</c> runs it): what a
/// token's role allows is what the console offers, and it signs in from the URL fragment.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReaderConsoleTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly BrowserFixture _browser;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-console-auth-" + Guid.NewGuid().ToString("N"));
    private byte[] _key = [];
    private InProcessServer _node = null!;
    private ConsoleSession _console = null!;

    public ReaderConsoleTests(AzuriteFixture azurite, BrowserFixture browser)
    {
        _azurite = azurite;
        _browser = browser;
    }

    private IPage Page => _console.Page;

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_directory, "signing.key");
        _key = LocalIssuer.CreateOrLoadKey(keyFile);
        _node = await InProcessServer.StartAsync(
            _azurite.ConnectionString,
            InProcessServer.NewContainer(),
            extraArguments: ["--AzKv:Auth:Mode=Local", "--AzKv:Auth:SigningKeyFile=" + keyFile]);
        _console = await ConsoleSession.OpenAsync(_browser.Browser, _node.Url);
    }

    public async Task DisposeAsync()
    {
        await _console.DisposeAsync();
        await _node.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task KeyView_WhenSignedInAsAReader_ShowsTheValueButOffersNoChange()
    {
        await PutAsAdminAsync("ro/app/color", "blue");
        var reader = Token("console-reader", AuthClaims.RoleValue(AccessRole.Reader));

        await Page.GotoAsync("/console/keys?key=ro/app/color#token=" + reader);

        await Expect(Page.GetByTestId("key-title")).ToHaveTextAsync("ro/app/color");
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("blue");
        await Expect(Page.GetByTestId("read-only")).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Edit" })).ToBeDisabledAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToBeDisabledAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "New key" })).ToBeDisabledAsync();

        // The token left the address bar: it lives in session storage only.
        Assert.DoesNotContain("token=", Page.Url, StringComparison.Ordinal);
        await _console.ScreenshotAsync("keys-reader");
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeyView_WhenSignedInAsAWriter_OffersEditAndDelete()
    {
        await PutAsAdminAsync("rw/app/color", "green");
        var writer = Token("console-writer", AuthClaims.RoleValue(AccessRole.Writer));

        await Page.GotoAsync("/console/keys?key=rw/app/color#token=" + writer);

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("green");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Edit" })).ToBeEnabledAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToBeEnabledAsync();
        await Expect(Page.GetByTestId("read-only")).ToHaveCountAsync(0);
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task KeyView_WhenTheKeyWasWrittenBySomeone_ShowsTheLastWriterAndTime()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);
        await PutAsAdminAsync("lw/app/color", "red");
        var reader = Token("console-reader", AuthClaims.RoleValue(AccessRole.Reader));

        await Page.GotoAsync("/console/keys?key=lw/app/color#token=" + reader);

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("red");
        var text = await Page.GetByTestId("last-writer").InnerTextAsync();
        Assert.StartsWith("Last written by console-admin at ", text, StringComparison.Ordinal);
        var shown = DateTimeOffset.Parse(text["Last written by console-admin at ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(shown, before, DateTimeOffset.UtcNow.AddSeconds(2));
        await _console.AssertNoConsoleErrorsAsync();
    }

    private string Token(string subject, string role) =>
        LocalIssuer.CreateToken(_key, subject, role, [], TimeSpan.FromMinutes(10), TimeProvider.System);

    private async Task PutAsAdminAsync(string key, string value)
    {
        using var http = new HttpClient { BaseAddress = _node.Url, Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent(value, Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token("console-admin", AuthClaims.RoleValue(AccessRole.Admin)));
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"PUT {key}: {(int)response.StatusCode}");
    }
}
