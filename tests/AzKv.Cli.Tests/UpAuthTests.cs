using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AzKv.Cli.Commands;
using AzKv.Cli.Tests.Support;
using AzKv.Testing.Cli;

namespace AzKv.Cli.Tests;

/// <summary><c>azkv up</c> with its local token issuer (on by default), <c>--no-auth</c>, and <c>azkv token create</c>, as real processes.</summary>
[Collection(CliProcessCollection.Name)]
public sealed class UpAuthTests
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    private static async Task<HttpStatusCode> StatusAsync(HttpMethod method, Uri url, string? token)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Put ? new StringContent("v") : null };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Up_WhenAuthIsOnByDefault_PrintsATokenThatWorksInEveryRegionAndRefusesRequestsWithoutIt()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--regions", "2", "--nodes", "1", "--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "2");
        await up.WaitUntilReadyAsync(ReadyDeadline);

        var lines = up.StdoutLines;
        var tokenLine = Assert.Single(lines, l => l.StartsWith("token ", StringComparison.Ordinal));
        Assert.True(lines.ToList().IndexOf(tokenLine) < lines.ToList().IndexOf("ready"), up.Describe());
        var admin = (await File.ReadAllTextAsync(tokenLine["token ".Length..])).Trim();
        Assert.Equal(2, up.Nodes.Count);

        // The console link of the first node follows the token line, before ready, and carries the admin token in its fragment.
        var consoleLine = Assert.Single(lines, l => l.StartsWith("console ", StringComparison.Ordinal));
        Assert.InRange(lines.ToList().IndexOf(consoleLine), lines.ToList().IndexOf(tokenLine) + 1, lines.ToList().IndexOf("ready") - 1);
        var consoleUrl = new Uri(consoleLine["console ".Length..]);
        Assert.Equal(new Uri(up.Nodes[0].Url, "/console"), new Uri(consoleUrl.GetLeftPart(UriPartial.Path)));
        Assert.Equal("#token=" + admin, consoleUrl.Fragment);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, new Uri(consoleUrl.GetLeftPart(UriPartial.Path)), null));

        foreach (var node in up.Nodes)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(HttpMethod.Get, new Uri(node.Url, "/v1/kv/app/x"), null));
            Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(HttpMethod.Get, new Uri(node.Url, "/v1/kv/app/x"), admin));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, new Uri(node.Url, "/readyz"), null));
        }

        // The CLI finds the token by itself; a scoped reader token from 'token create' reads but cannot write.
        var url = up.Nodes[0].Url.GetLeftPart(UriPartial.Authority);
        Assert.Equal(0, (await CliRunner.RunAsync(["put", "app/color", "blue"], url)).ExitCode);
        var created = await CliRunner.RunAsync(["token", "create", "--role", "reader", "--prefix", "app/", "--ttl", "10m", "--subject", "ci"], url);
        Assert.Equal(0, created.ExitCode);
        var reader = created.StdoutText.TrimEnd('\n');
        Assert.DoesNotContain('\n', reader);
        Assert.Equal(3, reader.Split('.').Length);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Get, new Uri(up.Nodes[0].Url, "/v1/kv/app/color"), reader));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Get, new Uri(up.Nodes[0].Url, "/v1/kv/other/color"), reader));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Put, new Uri(up.Nodes[0].Url, "/v1/kv/app/color"), reader));

        // A stored grant (azkv role, with the admin token found by itself) adds writer on app/ to the subject 'ci'.
        Assert.Equal(0, (await CliRunner.RunAsync(["role", "assign", "ci", "--role", "writer", "--prefix", "app/"], url)).ExitCode);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(HttpMethod.Put, new Uri(up.Nodes[0].Url, "/v1/kv/app/color"), reader));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(HttpMethod.Put, new Uri(up.Nodes[0].Url, "/v1/kv/other/color"), reader));
        Assert.Contains("\"ci\"", (await CliRunner.RunAsync(["role", "list"], url)).StdoutText, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync(["role", "remove", "ci", "--role", "writer"], url)).ExitCode);
        Assert.Equal(3, (await CliRunner.RunAsync(["role", "remove", "ci", "--role", "writer"], url)).ExitCode);

        using (var http = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(up.Nodes[1].Url, "/v1/auth/me"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader);
            using var response = await http.SendAsync(request);
            var me = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("ci", me.GetProperty("subject").GetString());
            Assert.Equal("reader", me.GetProperty("roles")[0].GetProperty("role").GetString());
        }

        Assert.Equal(0, await up.StopAsync(StopDeadline));
    }

    [Fact]
    public async Task Up_WhenNoAuth_WarnsLoudlyAndServesWithoutAToken()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--no-auth", "--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "2");
        await up.WaitUntilReadyAsync(ReadyDeadline);

        Assert.Contains("WARNING: authentication is OFF", up.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(up.StdoutLines, l => l.StartsWith("token ", StringComparison.Ordinal));
        Assert.Contains("console " + new Uri(up.Nodes[0].Url, "/console"), up.StdoutLines);
        Assert.Equal(HttpStatusCode.Created, await StatusAsync(HttpMethod.Put, new Uri(up.Nodes[0].Url, "/v1/kv/open/x"), null));
        Assert.Equal(0, await up.StopAsync(StopDeadline));
    }

    [Fact]
    public async Task TokenCreate_WhenNoKeyCanBeFound_FailsWithUsage()
    {
        var result = await CliRunner.RunAsync(["token", "create", "--role", "reader", "--url", "http://127.0.0.1:" + Ports.GetFree().ToString(CultureInfo.InvariantCulture)]);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Contains("no signing key", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("1h", 3600)]
    [InlineData("7d", 604800)]
    public void TryParseLifetime_WhenValid_ReturnsTheDuration(string text, int seconds)
    {
        Assert.True(TokenCommand.TryParseLifetime(text, out var lifetime));
        Assert.Equal(TimeSpan.FromSeconds(seconds), lifetime);
    }

    [Theory]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("0h")]
    [InlineData("-1h")]
    [InlineData("10w")]
    [InlineData("366d")]
    public void TryParseLifetime_WhenInvalid_ReturnsFalse(string text) =>
        Assert.False(TokenCommand.TryParseLifetime(text, out _));
}
