using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing.Azurite;
using AzKv.Testing.Security;
using AzKv.Testing.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AzKv.Console.Tests;

/// <summary>
/// "Sign in with Microsoft" in the console against a node in EntraId mode and a loopback OpenID
/// stand-in this test owns: its authorize endpoint redirects back with a code, its token endpoint
/// checks the PKCE verifier and returns a JWT signed by the key its JWKS publishes (which the node
/// trusts through <c>AzKv__Auth__Instance</c>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EntraSignInConsoleTests : IAsyncLifetime
{
    private const string Audience = "api://azkv-console-test";
    private static readonly string ConsoleClient = Guid.NewGuid().ToString();

    private readonly AzuriteFixture _azurite;
    private readonly BrowserFixture _browser;
    private readonly ConcurrentDictionary<string, PendingCode> _codes = new();
    private readonly ConcurrentQueue<string> _authorityCalls = new();
    private readonly ConcurrentQueue<string> _browserUrls = new();
    private EntraIdStandIn _authority = null!;
    private InProcessServer _node = null!;
    private ConsoleSession _console = null!;
    private string _signedInRole = AuthClaims.ReaderRole;

    public EntraSignInConsoleTests(AzuriteFixture azurite, BrowserFixture browser)
    {
        _azurite = azurite;
        _browser = browser;
    }

    private sealed record PendingCode(string Challenge, string RedirectUri, string Role);

    private IPage Page => _console.Page;

    public async Task InitializeAsync()
    {
        _authority = await EntraIdStandIn.StartAsync(MapSignIn);
        _node = await InProcessServer.StartAsync(
            _azurite.ConnectionString,
            InProcessServer.NewContainer(),
            extraArguments:
            [
                "--AzKv:Auth:Mode=EntraId",
                "--AzKv:Auth:TenantId=" + _authority.TenantId,
                "--AzKv:Auth:Audience=" + Audience,
                "--AzKv:Auth:Instance=" + _authority.Instance,
                "--AzKv:Auth:AllowedClientIds=" + ConsoleClient,
                "--AzKv:Auth:ConsoleClientId=" + ConsoleClient,
            ]);
        _console = await ConsoleSession.OpenAsync(_browser.Browser, _node.Url);
        Page.Request += (_, request) => _browserUrls.Enqueue(request.Url);
    }

    public async Task DisposeAsync()
    {
        await _console.DisposeAsync();
        await _node.DisposeAsync();
        await _authority.DisposeAsync();
    }

    [Fact]
    public async Task SignIn_WhenAReaderSignsInWithMicrosoft_GetsAReadOnlyConsoleAndTheTokenNeverTravelsInAUrl()
    {
        await PutAsync("ent/app/color", "blue", Token("admin-user", AuthClaims.AdminRole, ConsoleClient));
        _signedInRole = AuthClaims.ReaderRole;

        // Not signed in: the node answers 401 and the console offers the Microsoft sign-in.
        _console.ExpectHttpError(401, "/v1/auth/me");
        await Page.GotoAsync("/console/keys?key=ent/app/color");
        var microsoft = Page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Microsoft" });
        await Expect(microsoft).ToBeFocusedAsync();
        await _console.ScreenshotAsync("signin-microsoft");
        await Page.Keyboard.PressAsync("Enter");

        // Back from the authority: the key it started on, read-only for a reader.
        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("blue");
        await Expect(Page.GetByTestId("read-only")).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Edit" })).ToBeDisabledAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToBeDisabledAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "New key" })).ToBeDisabledAsync();
        await Expect(Page.Locator("#who")).ToHaveTextAsync("reader-user · reader");
        Assert.Equal(new Uri(_node.Url, "/console/keys?key=ent/app/color"), new Uri(Page.Url));

        // The token is in this tab's session storage and in no URL the browser asked for.
        var token = await Page.EvaluateAsync<string?>("() => sessionStorage.getItem('azkv.console.token')");
        Assert.NotNull(token);
        Assert.Equal(3, token.Split('.').Length);
        Assert.DoesNotContain(_browserUrls, url => url.Contains(token, StringComparison.Ordinal));
        Assert.Equal(["authorize", "token"], _authorityCalls);
        Assert.Null(await Page.EvaluateAsync<string?>("() => sessionStorage.getItem('azkv.console.signin')"));

        // Sign out: the token is gone and the sign-in comes back.
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(microsoft).ToBeVisibleAsync();
        Assert.Null(await Page.EvaluateAsync<string?>("() => sessionStorage.getItem('azkv.console.token')"));
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task SignIn_WhenAWriterSignsIn_CanEditAKey()
    {
        await PutAsync("ent/app/size", "small", Token("admin-user", AuthClaims.AdminRole, ConsoleClient));
        _signedInRole = AuthClaims.WriterRole;
        _console.ExpectHttpError(401, "/v1/auth/me");

        await Page.GotoAsync("/console/keys?key=ent/app/size");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Microsoft" }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Page.GetByLabel("Value").FillAsync("large");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Expect(Page.GetByTestId("value")).ToHaveTextAsync("large");
        await Expect(Page.Locator("#who")).ToHaveTextAsync("writer-user · writer");
        await _console.AssertNoConsoleErrorsAsync();
    }

    [Fact]
    public async Task Config_WhenTheNodeRunsEntraIdWithAConsoleClient_DescribesTheSignInAnonymouslyAndAllowsOnlyTheAuthorityInConnectSrc()
    {
        using var http = new HttpClient { BaseAddress = _node.Url };

        using var response = await http.GetAsync("/console/config.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var config = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("EntraId", config.GetProperty("auth").GetString());
        var signIn = config.GetProperty("signIn");
        Assert.Equal($"{_authority.Instance}{_authority.TenantId}/oauth2/v2.0/authorize", signIn.GetProperty("authorizeEndpoint").GetString());
        Assert.Equal($"{_authority.Instance}{_authority.TenantId}/oauth2/v2.0/token", signIn.GetProperty("tokenEndpoint").GetString());
        Assert.Equal(ConsoleClient, signIn.GetProperty("clientId").GetString());
        Assert.Equal(Audience + "/.default", signIn.GetProperty("scope").GetString());
        Assert.Equal("/console/signin", signIn.GetProperty("redirectPath").GetString());
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains($"connect-src 'self' {_authority.Instance.TrimEnd('/')};", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        using var page = await http.GetAsync("/console/signin");
        Assert.Equal(csp, Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
    }

    /// <summary>The sign-in endpoints of the authority (its metadata and keys are the stand-in's).</summary>
    private void MapSignIn(WebApplication authority, EntraIdStandIn tenant)
    {
        // The user "signs in" at once: a code bound to the PKCE challenge, back to the redirect URI.
        authority.MapGet($"/{tenant.TenantId}/oauth2/v2.0/authorize", (HttpRequest request) =>
        {
            _authorityCalls.Enqueue("authorize");
            var q = request.Query;
            var redirect = q["redirect_uri"].ToString();
            if (q["client_id"] != ConsoleClient || q["response_type"] != "code" || q["code_challenge_method"] != "S256"
                || string.IsNullOrEmpty(q["code_challenge"]) || string.IsNullOrEmpty(q["state"])
                || redirect != new Uri(_node.Url, "/console/signin").ToString()
                || !q["scope"].ToString().Split(' ').Contains(Audience + "/.default"))
            {
                return Results.BadRequest("bad authorize request: " + request.QueryString);
            }

            var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _codes[code] = new PendingCode(q["code_challenge"].ToString(), redirect, _signedInRole);
            return Results.Redirect($"{redirect}?code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });

        // Code + verifier for a token, once; CORS for the console's origin only (a SPA redemption).
        authority.MapPost($"/{tenant.TenantId}/oauth2/v2.0/token", async (HttpContext context) =>
        {
            _authorityCalls.Enqueue("token");
            var origin = context.Request.Headers.Origin.ToString();
            if (origin == _node.Url.GetLeftPart(UriPartial.Authority))
            {
                context.Response.Headers.AccessControlAllowOrigin = origin;
            }

            var form = await context.Request.ReadFormAsync();
            var verifier = form["code_verifier"].ToString();
            if (form["grant_type"] != "authorization_code" || form["client_id"] != ConsoleClient
                || !_codes.TryRemove(form["code"].ToString(), out var pending)
                || form["redirect_uri"] != pending.RedirectUri
                || Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != pending.Challenge)
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: StatusCodes.Status400BadRequest);
            }

            var subject = pending.Role == AuthClaims.ReaderRole ? "reader-user" : "writer-user";
            return Results.Json(new { token_type = "Bearer", expires_in = 3600, access_token = Token(subject, pending.Role, ConsoleClient) });
        });
    }

    private string Token(string subject, string role, string client)
    {
        var now = DateTime.UtcNow;
        return _authority.CreateToken(new SecurityTokenDescriptor
        {
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            Claims = new Dictionary<string, object> { ["oid"] = subject, ["sub"] = subject, ["azp"] = client, ["roles"] = new[] { role } },
        });
    }

    private async Task PutAsync(string key, string value, string token)
    {
        using var http = new HttpClient { BaseAddress = _node.Url, Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent(value, Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"PUT {key}: {(int)response.StatusCode}");
    }
}
