using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Testing;
using AzKv.Testing.Azurite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Tests.Security;

/// <summary>
/// A node in local auth mode over real HTTP: every endpoint refuses a missing token (401) and a
/// token whose role does not cover it (403); bad tokens are 401; tokens never reach the log.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuthApiTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-auth-" + Guid.NewGuid().ToString("N"));
    private readonly CapturingLoggerProvider _logs = new();
    private ServerProcess? _server;
    private byte[] _key = [];

    public AuthApiTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    private string KeyFile => Path.Combine(_directory, "signing.key");

    public async Task InitializeAsync()
    {
        _key = LocalIssuer.CreateOrLoadKey(KeyFile);
        _server = await ServerProcess.StartAsync(
            _azurite,
            "auth" + Guid.NewGuid().ToString("N")[..16],
            4,
            builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Trace);
                builder.Logging.AddProvider(_logs);
            },
            "--AzKv:Auth:Mode=Local",
            "--AzKv:Auth:SigningKeyFile=" + KeyFile,
            "--AzKv:Auth:RequestsPerSecond=1000",
            "--Logging:LogLevel:Default=Trace");
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string Token(string role, params string[] prefixes) =>
        LocalIssuer.CreateToken(_key, "test-" + role, role, prefixes, TimeSpan.FromMinutes(10), TimeProvider.System);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _server!.Http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string kind)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("https://azkv.dev/problems/" + kind, problem.GetProperty("type").GetString());
    }

    /// <summary>Every endpoint but the health probes, with a method and a path.</summary>
    public static TheoryData<string, string> ProtectedEndpoints => new()
    {
        { "GET", "/v1/kv/app/color" },
        { "PUT", "/v1/kv/app/color" },
        { "DELETE", "/v1/kv/app/color" },
        { "GET", "/v1/kv?prefix=app/" },
        { "GET", "/v1/watch?prefix=app/&timeout=1" },
        { "GET", "/v1/cluster" },
        { "GET", "/v1/conflicts?prefix=app/" },
        { "POST", "/v1/replication/west/pause" },
        { "POST", "/v1/replication/west/resume" },
        { "POST", "/v1/replication/west/verify" },
        { "GET", "/v1/internal/changes?positions=0:0" },
        { "GET", "/v1/internal/antientropy/0/tree?level=0" },
        { "GET", "/v1/internal/antientropy/0/leaves?ids=1" },
        { "GET", "/v1/internal/partitions/0/keys" },
        { "GET", "/metrics" },
        { "GET", "/openapi/v1.json" },
        { "GET", "/v1/auth/roles" },
        { "PUT", "/v1/auth/roles/alice/reader" },
        { "DELETE", "/v1/auth/roles/alice/reader" },
    };

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task Endpoint_WhenNoToken_Returns401ProblemWithBearerChallenge(string method, string path)
    {
        using var response = await SendAsync(new HttpMethod(method), path, null, method == "PUT" ? new StringContent("x") : null);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    /// <summary>Each endpoint with a token one role (or one prefix) short of what it needs.</summary>
    public static TheoryData<string, string, string, string> WrongRoleRequests => new()
    {
        { "GET", "/v1/kv/app/color", AuthClaims.ReaderRole, "other/" },
        { "PUT", "/v1/kv/app/color", AuthClaims.ReaderRole, "" },
        { "PUT", "/v1/kv/app/color", AuthClaims.WriterRole, "other/" },
        { "DELETE", "/v1/kv/app/color", AuthClaims.ReaderRole, "" },
        { "GET", "/v1/kv?prefix=", AuthClaims.ReaderRole, "app/" },
        { "GET", "/v1/watch?prefix=ap&timeout=1", AuthClaims.ReaderRole, "app/" },
        { "GET", "/v1/conflicts?prefix=", AuthClaims.AdminRole, "app/" },
        { "POST", "/v1/replication/west/pause", AuthClaims.WriterRole, "" },
        { "POST", "/v1/replication/west/resume", AuthClaims.AdminRole, "app/" },
        { "POST", "/v1/replication/west/verify", AuthClaims.WriterRole, "" },
        { "GET", "/v1/internal/changes?positions=0:0", AuthClaims.AdminRole, "" },
        { "GET", "/v1/internal/antientropy/0/tree?level=0", AuthClaims.AdminRole, "" },
        { "GET", "/v1/internal/antientropy/0/leaves?ids=1", AuthClaims.AdminRole, "" },
        { "GET", "/v1/internal/partitions/0/keys", AuthClaims.AdminRole, "" },
    };

    [Theory]
    [MemberData(nameof(WrongRoleRequests))]
    public async Task Endpoint_WhenRoleDoesNotCover_Returns403Problem(string method, string path, string role, string prefix)
    {
        var token = prefix.Length == 0 ? Token(role) : Token(role, prefix);

        using var response = await SendAsync(new HttpMethod(method), path, token, method == "PUT" ? new StringContent("x") : null);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Endpoints_WhenRoleCovers_AreServed()
    {
        var writer = Token(AuthClaims.WriterRole, "app/");
        var reader = Token(AuthClaims.ReaderRole, "app/");

        using var put = await SendAsync(HttpMethod.Put, "/v1/kv/app/color", writer, new StringContent("blue"));
        using var get = await SendAsync(HttpMethod.Get, "/v1/kv/app/color", reader);
        using var list = await SendAsync(HttpMethod.Get, "/v1/kv?prefix=app/", reader);
        using var cluster = await SendAsync(HttpMethod.Get, "/v1/cluster", reader);
        using var metrics = await SendAsync(HttpMethod.Get, "/metrics", reader);
        using var delete = await SendAsync(HttpMethod.Delete, "/v1/kv/app/color", writer);
        using var node = await SendAsync(HttpMethod.Get, "/v1/internal/partitions/0/keys", LocalIssuer.CreateToken(_key, "node:x", AuthClaims.NodeRole, [], TimeSpan.FromMinutes(5), TimeProvider.System));
        using var resume = await SendAsync(HttpMethod.Post, "/v1/replication/west/resume", Token(AuthClaims.AdminRole));
        using var tree = await SendAsync(HttpMethod.Get, "/v1/internal/antientropy/0/tree?level=0", LocalIssuer.CreateToken(_key, "node:x", AuthClaims.NodeRole, [], TimeSpan.FromMinutes(5), TimeProvider.System));
        using var verify = await SendAsync(HttpMethod.Post, "/v1/replication/west/verify", Token(AuthClaims.AdminRole));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("blue", await get.Content.ReadAsStringAsync());
        Assert.Contains("app/color", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, cluster.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.OK, node.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, resume.StatusCode); // authorized; no region 'west' here
        Assert.Equal(HttpStatusCode.OK, tree.StatusCode);
        Assert.Contains("\"hashes\":[\"", await tree.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, verify.StatusCode); // authorized; no region 'west' here
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task HealthProbes_WhenNoToken_AreServed(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Get_WhenTokenIsExpiredNotYetValidForgedOrForeign_Returns401()
    {
        var forger = new byte[32];
        Random.Shared.NextBytes(forger);
        string[] tokens =
        [
            LocalIssuer.CreateToken(_key, "x", AuthClaims.AdminRole, [], TimeSpan.FromMinutes(5), new ManualTimeProvider(DateTimeOffset.UtcNow.AddHours(-1))),
            LocalIssuer.CreateToken(_key, "x", AuthClaims.AdminRole, [], TimeSpan.FromMinutes(5), new ManualTimeProvider(DateTimeOffset.UtcNow.AddMinutes(5))),
            LocalIssuer.CreateToken(forger, "x", AuthClaims.AdminRole, [], TimeSpan.FromMinutes(5), TimeProvider.System),
            Token(AuthClaims.AdminRole)[..^4] + "AAAA",
            "not-a-jwt",
        ];

        foreach (var token in tokens)
        {
            using var response = await SendAsync(HttpMethod.Get, "/v1/kv/app/color", token);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
            Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AuthMe_WhenScopedReader_ReturnsSubjectAndScopedRole()
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/auth/me", Token(AuthClaims.ReaderRole, "app/", "flags/"));

        var me = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(me.GetProperty("authenticated").GetBoolean());
        Assert.Equal("test-" + AuthClaims.ReaderRole, me.GetProperty("subject").GetString());
        var role = Assert.Single(me.GetProperty("roles").EnumerateArray());
        Assert.Equal("reader", role.GetProperty("role").GetString());
        Assert.Equal(["app/", "flags/"], role.GetProperty("prefixes").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task AuthMe_WhenNoToken_ReturnsUnauthenticatedWithoutRoles()
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/auth/me", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(me.GetProperty("authenticated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, me.GetProperty("subject").ValueKind);
        Assert.Empty(me.GetProperty("roles").EnumerateArray());
    }

    [Fact]
    public async Task Requests_WhenTokensAreSentAndRefused_NeverWriteTheTokenToTheLog()
    {
        var good = Token(AuthClaims.WriterRole, "app/");
        var forged = LocalIssuer.CreateToken(new byte[32], "x", AuthClaims.AdminRole, [], TimeSpan.FromMinutes(5), TimeProvider.System);

        using (await SendAsync(HttpMethod.Put, "/v1/kv/app/logged", good, new StringContent("v"))) { }
        using (await SendAsync(HttpMethod.Put, "/v1/kv/other/logged", good, new StringContent("v"))) { }
        using (await SendAsync(HttpMethod.Get, "/v1/kv/app/logged", forged)) { }

        var text = _logs.Text;
        Assert.Contains("Forbidden PUT /v1/kv/other/logged", text, StringComparison.Ordinal); // the sink does see the node's logs
        Assert.Contains("Unauthenticated GET /v1/kv/app/logged", text, StringComparison.Ordinal);
        foreach (var token in new[] { good, forged })
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[2], text, StringComparison.Ordinal); // not even the signature
        }

        Assert.DoesNotContain(Convert.ToBase64String(_key), text, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey=", text, StringComparison.Ordinal);
    }

    /// <summary>Every log line of the node, formatted with its exception.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public string Text => string.Join('\n', _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var builder = new StringBuilder().Append(category).Append(": ").Append(formatter(state, exception));
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (name, value) in values)
                    {
                        builder.Append(' ').Append(name).Append('=').Append(value);
                    }
                }

                lines.Enqueue(builder.Append(' ').Append(exception).ToString());
            }
        }
    }
}
