using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Microsoft.Playwright;

namespace AzKv.Console.Tests;

/// <summary>
/// The set-up of console tests against the class's shared node (no authentication, so the console's
/// <c>/v1/auth/me</c> answers 404, which it reads as "open node"): a browser session on it and a client
/// of its API, both per test.
/// </summary>
public abstract class SharedNodeConsoleTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly ServerFixture _server;
    private readonly BrowserFixture _browser;

    protected SharedNodeConsoleTests(AzuriteFixture azurite, ServerFixture server, BrowserFixture browser)
    {
        _azurite = azurite;
        _server = server;
        _browser = browser;
    }

    /// <summary>The shared node.</summary>
    protected InProcessServer Node { get; private set; } = null!;

    /// <summary>A client of the node's API.</summary>
    protected NodeApi Api { get; private set; } = null!;

    /// <summary>The browser session on the node's console.</summary>
    protected ConsoleSession Session { get; private set; } = null!;

    protected IPage Page => Session.Page;

    /// <summary>The collection's browser (for a second session).</summary>
    protected IBrowser Browser => _browser.Browser;

    public async Task InitializeAsync()
    {
        Node = await _server.GetAsync(_azurite);
        Api = new NodeApi(Node.Url);
        Session = await ConsoleSession.OpenAsync(_browser.Browser, Node.Url);

        // This node has no authentication: /v1/auth/me answers 404, which the console reads as "open node".
        Session.ExpectHttpError(404, "/v1/auth/me");
    }

    public virtual async Task DisposeAsync()
    {
        await Session.DisposeAsync();
        Api.Dispose();
    }
}
