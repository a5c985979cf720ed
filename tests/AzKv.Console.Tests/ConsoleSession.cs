using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using AzKv.Testing;
using Microsoft.Playwright;

namespace AzKv.Console.Tests;

/// <summary>
/// One browser context and page on the console of a node, recording every console error and page
/// error so a test fails on any of them (<see cref="AssertNoConsoleErrorsAsync"/>), and writing
/// screenshots to TestResults/console/.
/// </summary>
public sealed partial class ConsoleSession : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly HashSet<(int Status, string PathPrefix)> _expectedHttpErrors = [];
    private readonly HashSet<string> _expectedNetworkFailures = [];

    private ConsoleSession(IBrowserContext context, IPage page, Uri node)
    {
        Context = context;
        Page = page;
        Node = node;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public Uri Node { get; }

    /// <summary>Where screenshots go (the test results, not the repository's docs).</summary>
    public static string ScreenshotDirectory => RepositoryFiles.PathOf("TestResults/console");

    public static async Task<ConsoleSession> OpenAsync(IBrowser browser, Uri node, int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = node.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var session = new ConsoleSession(context, page, node);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !session.IsExpected(message))
            {
                session._errors.Enqueue($"console error: {message.Text} at {message.Location}");
            }
        };
        page.PageError += (_, error) => session._errors.Enqueue("page error: " + error);
        return session;
    }

    /// <summary>
    /// An HTTP answer the test provokes on purpose (a 412 on a stale edit, the 404 of <c>/v1/auth/me</c>
    /// on an open node): Chromium reports every 4xx to a fetch as a console error, which is not a fault
    /// of the console. Only that status on that path is tolerated.
    /// </summary>
    public void ExpectHttpError(int status, string pathPrefix) => _expectedHttpErrors.Add((status, pathPrefix));

    /// <summary>A request under <paramref name="pathPrefix"/> that cannot reach the node (the test stopped it): Chromium logs <c>net::ERR_...</c>.</summary>
    public void ExpectNetworkFailure(string pathPrefix) => _expectedNetworkFailures.Add(pathPrefix);

    public async Task AssertNoConsoleErrorsAsync()
    {
        // Anything still in flight (a render after the last expectation) reports before the check.
        await Page.EvaluateAsync("() => new Promise(resolve => requestAnimationFrame(() => resolve()))");
        Assert.True(_errors.IsEmpty, "The browser reported errors:\n" + string.Join('\n', _errors));
    }

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = false });
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();

    private bool IsExpected(IConsoleMessage message)
    {
        var match = FailedResource().Match(message.Text);
        var location = SourceLocation().Match(message.Location);
        if (!location.Success || !Uri.TryCreate(location.Groups["url"].Value, UriKind.Absolute, out var url))
        {
            return false;
        }

        if (message.Text.StartsWith("Failed to load resource: net::ERR_", StringComparison.Ordinal))
        {
            return _expectedNetworkFailures.Any(prefix => url.AbsolutePath.StartsWith(prefix, StringComparison.Ordinal));
        }

        if (!match.Success)
        {
            return false;
        }

        var status = int.Parse(match.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture);
        return _expectedHttpErrors.Any(e => e.Status == status && url.AbsolutePath.StartsWith(e.PathPrefix, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^Failed to load resource: the server responded with a status of (?<status>\d{3})")]
    private static partial Regex FailedResource();

    /// <summary>Playwright's location of a console message: <c>url:line:column</c>.</summary>
    [GeneratedRegex(@"^(?<url>.*?):\d+:\d+$")]
    private static partial Regex SourceLocation();
}
