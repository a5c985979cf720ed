using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AzKv.Server.Security;
using AzKv.Server.Tests.Cluster;
using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests.Security;

/// <summary>
/// The audit trail over real HTTP: GET /v1/audit (writes and refusals, paging, prefix, since, who may read it) and
/// the last writer a GET answers, across a restart from a checkpoint and through a forwarding front end.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditApiTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-audit-" + Guid.NewGuid().ToString("N"));
    private readonly string _container = "audit" + Guid.NewGuid().ToString("N")[..16];
    private ServerProcess? _server;
    private byte[] _key = [];

    public AuditApiTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    private string KeyFile => Path.Combine(_directory, "signing.key");

    public async Task InitializeAsync()
    {
        _key = LocalIssuer.CreateOrLoadKey(KeyFile);
        _server = await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<ServerProcess> StartAsync() => ServerProcess.StartAsync(
        _azurite,
        _container,
        4,
        "--AzKv:Auth:Mode=Local",
        "--AzKv:Auth:SigningKeyFile=" + KeyFile,
        "--AzKv:Partition:CheckpointEveryBytes=1024");

    private string Token(string subject, string role, params string[] prefixes) =>
        LocalIssuer.CreateToken(_key, subject, role, prefixes, TimeSpan.FromMinutes(10), TimeProvider.System);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? token, string? body = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "text/plain") };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await http.SendAsync(request);
    }

    private async Task<(List<JsonElement> Items, string? Cursor)> AuditAsync(string query, string token)
    {
        using var response = await SendAsync(_server!.Http, HttpMethod.Get, "/v1/audit?" + query, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        var cursor = root.TryGetProperty("cursor", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return ([.. root.GetProperty("items").EnumerateArray()], cursor);
    }

    private static string Describe(JsonElement item) =>
        $"{item.GetProperty("principal").GetString() ?? "-"} {item.GetProperty("operation").GetString()} {item.GetProperty("key").GetString()} {item.GetProperty("outcome").GetString()}";

    [Fact]
    public async Task Audit_WhenWritesAndRefusalsHappened_ListsThemNewestFirstWithPrincipalAndOutcome()
    {
        var admin = Token("alice", AuthClaims.AdminRole);
        var reader = Token("rita", AuthClaims.ReaderRole);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(_server!.Http, HttpMethod.Put, "/v1/kv/app/a", admin, "1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_server.Http, HttpMethod.Put, "/v1/kv/app/a", admin, "2")).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await SendAsync(_server.Http, HttpMethod.Put, "/v1/kv/app/a", admin, "3", ifNoneMatch: "*")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(_server.Http, HttpMethod.Put, "/v1/kv/app/b", reader, "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(_server.Http, HttpMethod.Delete, "/v1/kv/app/a", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(_server.Http, HttpMethod.Delete, "/v1/kv/app/a", admin)).StatusCode);

        var (items, cursor) = await AuditAsync("prefix=app/", admin);

        Assert.Null(cursor);
        Assert.Equal(
            [
                "alice delete app/a ok",
                "- delete app/a denied-401",
                "rita put app/b denied-403",
                "alice put app/a precondition-failed",
                "alice put app/a ok",
                "alice put app/a created",
            ],
            items.Select(Describe).ToArray());
        var times = items.Select(i => i.GetProperty("time").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
        Assert.All(items, i => Assert.StartsWith("test-", i.GetProperty("node").GetString()));
    }

    [Fact]
    public async Task Audit_WhenPagedWithTheCursor_ReturnsEveryEventExactlyOnceInOrder()
    {
        var admin = Token("alice", AuthClaims.AdminRole);
        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await SendAsync(_server!.Http, HttpMethod.Put, $"/v1/kv/page/{i}", admin, "v")).StatusCode);
        }

        var (all, _) = await AuditAsync("prefix=page/&limit=1000", admin);
        var paged = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var (items, next) = await AuditAsync("prefix=page/&limit=3" + (cursor is null ? string.Empty : "&cursor=" + cursor), admin);
            Assert.True(items.Count <= 3);
            paged.AddRange(items.Select(i => i.GetProperty("key").GetString()!));
            cursor = next;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(7, all.Count);
        Assert.Equal(3, pages);
        Assert.Equal(all.Select(i => i.GetProperty("key").GetString()!), paged);
        Assert.Equal(Enumerable.Range(0, 7).Reverse().Select(i => $"page/{i}"), paged);
    }

    [Fact]
    public async Task Audit_WhenFilteredByPrefixAndSince_ReturnsOnlyMatchingEvents()
    {
        var admin = Token("alice", AuthClaims.AdminRole);
        await SendAsync(_server!.Http, HttpMethod.Put, "/v1/kv/one/a", admin, "v");
        await SendAsync(_server.Http, HttpMethod.Put, "/v1/kv/two/a", admin, "v");

        var (one, _) = await AuditAsync("prefix=one/", admin);
        var (future, _) = await AuditAsync("prefix=&since=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O")), admin);
        var (past, _) = await AuditAsync("prefix=&since=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O")), admin);

        Assert.Equal(["alice put one/a created"], one.Select(Describe));
        Assert.Empty(future);
        Assert.Contains(past, i => i.GetProperty("key").GetString() == "two/a");
        Assert.Contains(past, i => i.GetProperty("key").GetString() == "one/a");
    }

    [Fact]
    public async Task Audit_WhenTheCallerHasNoTokenOrNoAdminRoleOverThePrefix_IsRefused()
    {
        using var none = await SendAsync(_server!.Http, HttpMethod.Get, "/v1/audit?prefix=app/", null);
        using var reader = await SendAsync(_server.Http, HttpMethod.Get, "/v1/audit?prefix=app/", Token("rita", AuthClaims.ReaderRole));
        using var writer = await SendAsync(_server.Http, HttpMethod.Get, "/v1/audit?prefix=app/", Token("will", AuthClaims.WriterRole));
        using var scopedInside = await SendAsync(_server.Http, HttpMethod.Get, "/v1/audit?prefix=app/x", Token("sam", AuthClaims.AdminRole, "app/"));
        using var scopedOutside = await SendAsync(_server.Http, HttpMethod.Get, "/v1/audit?prefix=", Token("sam", AuthClaims.AdminRole, "app/"));
        using var badCursor = await SendAsync(_server.Http, HttpMethod.Get, "/v1/audit?cursor=nope", Token("alice", AuthClaims.AdminRole));

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, reader.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, writer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, scopedInside.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, scopedOutside.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        Assert.Equal("https://azkv.dev/problems/forbidden", JsonDocument.Parse(await reader.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Audit_WhenTokensWereSent_NoTokenAppearsInTheAuditBlobsOrTheAnswer()
    {
        var admin = Token("alice", AuthClaims.AdminRole);
        var reader = Token("rita", AuthClaims.ReaderRole);
        await SendAsync(_server!.Http, HttpMethod.Put, "/v1/kv/secret/a", admin, "v");
        await SendAsync(_server.Http, HttpMethod.Put, "/v1/kv/secret/a", reader, "v");
        using var forged = await SendAsync(_server.Http, HttpMethod.Put, "/v1/kv/secret/a", admin[..^4] + "AAAA", "v");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);

        using var answer = await SendAsync(_server.Http, HttpMethod.Get, "/v1/audit?prefix=", admin);
        var text = await answer.Content.ReadAsStringAsync();
        var blobs = new StringBuilder();
        var store = _azurite.CreateStore(_container);
        var page = await store.ListAsync("audit/", null, 1000, CancellationToken.None);
        foreach (var item in page.Items)
        {
            blobs.Append(Encoding.UTF8.GetString((await store.DownloadAsync(item.Name, default, default, CancellationToken.None)).Content.Span));
        }

        Assert.Contains("denied-401", text);
        Assert.Contains("denied-403", blobs.ToString());
        foreach (var token in new[] { admin, reader })
        {
            var signature = token[(token.LastIndexOf('.') + 1)..];
            Assert.DoesNotContain(signature, text);
            Assert.DoesNotContain(signature, blobs.ToString());
        }
    }

    [Fact]
    public async Task Get_WhenTheKeyWasWrittenAndTheNodeRestartedFromACheckpoint_AnswersTheLastWriterAndLastModified()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(_server!.Http, HttpMethod.Put, "/v1/kv/lw/key", Token("bob", AuthClaims.WriterRole), "v1")).StatusCode);

        // Past the 1 KiB checkpoint threshold: the partitions checkpoint, so the restart reads the last writer from one.
        var filler = new string('x', 1536);
        for (var i = 0; i < 32; i++)
        {
            await SendAsync(_server.Http, HttpMethod.Put, $"/v1/kv/fill/{i}", Token("carol", AuthClaims.WriterRole), filler);
        }

        using (var first = await SendAsync(_server.Http, HttpMethod.Get, "/v1/kv/lw/key", Token("rita", AuthClaims.ReaderRole)))
        {
            Assert.Equal("bob", Assert.Single(first.Headers.GetValues("AzKv-Last-Writer")));
            Assert.InRange(first.Content.Headers.LastModified!.Value, before, DateTimeOffset.UtcNow.AddSeconds(2));
        }

        await _server.DisposeAsync();
        var store = _azurite.CreateStore(_container);
        var checkpoints = await store.ListAsync("partitions/", null, 1000, CancellationToken.None);
        Assert.Contains(checkpoints.Items, i => i.Name.EndsWith(".ckpt", StringComparison.Ordinal));
        _server = await StartAsync();

        using var again = await SendAsync(_server.Http, HttpMethod.Get, "/v1/kv/lw/key", Token("rita", AuthClaims.ReaderRole));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("bob", Assert.Single(again.Headers.GetValues("AzKv-Last-Writer")));
        Assert.InRange(again.Content.Headers.LastModified!.Value, before, DateTimeOffset.UtcNow.AddSeconds(2));
    }

    [Fact]
    public async Task Put_WhenForwardedByAFrontEnd_TheOwnerRecordsTheOriginalCallerNotTheFrontEnd()
    {
        var container = "auditfw" + Guid.NewGuid().ToString("N")[..12];
        string[] auth = ["--AzKv:Auth:Mode=Local", "--AzKv:Auth:SigningKeyFile=" + KeyFile];
        await using var owner = NodeProcess.Start("owner-1", _azurite.ConnectionString, container, "owner", auth);
        await using var front = NodeProcess.Start("front-1", _azurite.ConnectionString, container, "frontend", auth);
        await owner.WaitReadyAsync(TimeSpan.FromSeconds(90));
        await front.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var dave = Token("dave", AuthClaims.WriterRole);

        HttpResponseMessage? put = null;
        for (var attempt = 0; attempt < 60 && put?.StatusCode != HttpStatusCode.Created; attempt++)
        {
            put?.Dispose();
            put = await SendAsync(front.Http, HttpMethod.Put, "/v1/kv/fw/key", dave, "v");
            if (put.StatusCode != HttpStatusCode.Created)
            {
                await Task.Delay(500);
            }
        }

        Assert.Equal(HttpStatusCode.Created, put!.StatusCode);
        put.Dispose();
        using var get = await SendAsync(front.Http, HttpMethod.Get, "/v1/kv/fw/key", Token("rita", AuthClaims.ReaderRole));
        using var audit = await SendAsync(owner.Http, HttpMethod.Get, "/v1/audit?prefix=fw/", Token("alice", AuthClaims.AdminRole));
        var items = JsonDocument.Parse(await audit.Content.ReadAsStringAsync()).RootElement.GetProperty("items").EnumerateArray().ToList();

        Assert.Equal("dave", Assert.Single(get.Headers.GetValues("AzKv-Last-Writer")));
        var created = Assert.Single(items, i => i.GetProperty("outcome").GetString() == "created");
        Assert.Equal("dave", created.GetProperty("principal").GetString());
        Assert.Equal("owner-1", created.GetProperty("node").GetString());
    }
}
