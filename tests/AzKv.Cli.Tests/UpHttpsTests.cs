using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using AzKv.Cli.Tests.Support;
using AzKv.Testing.Cli;
using AzKv.Testing.Tls;

namespace AzKv.Cli.Tests;

/// <summary><c>azkv up --https</c> as real processes: TLS with the CA it prints, forwarding between nodes over https, and the CLI finding the CA.</summary>
[Collection(CliProcessCollection.Name)]
public sealed class UpHttpsTests
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    private static HttpClient TrustingOnly(string caFile) => new(TrustingHandler.Create(caFile)) { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Up_WhenHttps_ServesTlsWithThePrintedCaAndTheCliFindsIt()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--https", "--nodes", "2", "--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "4");
        await up.WaitUntilReadyAsync(ReadyDeadline);

        var lines = up.StdoutLines.ToList();
        var caLine = Assert.Single(lines, l => l.StartsWith("ca ", StringComparison.Ordinal));
        Assert.True(lines.IndexOf(caLine) < lines.IndexOf("ready"), up.Describe());
        var caFile = caLine["ca ".Length..];
        var tokenFile = Assert.Single(lines, l => l.StartsWith("token ", StringComparison.Ordinal))["token ".Length..];
        Assert.All(up.Nodes, node => Assert.Equal(Uri.UriSchemeHttps, node.Url.Scheme));

        // The machine's store does not know the local CA; a client that trusts the CA gets in.
        using (var untrusting = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(new Uri(up.Nodes[0].Url, "/readyz")));
            Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        }

        using (var trusting = TrustingOnly(caFile))
        {
            using var ready = await trusting.GetAsync(new Uri(up.Nodes[1].Url, "/readyz"));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(up.Nodes[1].Url, "/v1/cluster"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(tokenFile)).Trim());
            using var cluster = await trusting.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, cluster.StatusCode);
        }

        // The CLI finds the CA and the token of this up by itself. Eight keys written through node-2 and read
        // through node-1: with 4 partitions on 2 nodes some are forwarded, node to node, over https.
        var second = up.Nodes[1].Url.GetLeftPart(UriPartial.Authority);
        var first = up.Nodes[0].Url.GetLeftPart(UriPartial.Authority);
        for (var i = 0; i < 8; i++)
        {
            var put = await CliRunner.RunAsync(["put", $"tls/k{i}", $"v{i}"], second);
            Assert.True(put.ExitCode == 0, put.ToString());
        }

        for (var i = 0; i < 8; i++)
        {
            var get = await CliRunner.RunAsync(["get", $"tls/k{i}"], first);
            Assert.True(get.ExitCode == 0, get.ToString());
            Assert.Equal($"v{i}", get.StdoutText.TrimEnd('\n'));
        }

        // Elsewhere (no description of this up): --ca-file trusts the CA; without it the certificate is refused, and said so.
        var elsewhere = Path.Combine(Path.GetTempPath(), "azkv-home-" + Guid.NewGuid().ToString("N"));
        var environment = new Dictionary<string, string?> { ["AZKV_HOME"] = elsewhere, ["AZKV_TOKEN_FILE"] = tokenFile, ["AZKV_CA_FILE"] = null };
        var withCa = await CliRunner.RunAsync(["get", "tls/k3", "--ca-file", caFile], first, environment: environment);
        Assert.True(withCa.ExitCode == 0, withCa.ToString());
        Assert.Equal("v3", withCa.StdoutText.TrimEnd('\n'));
        var withoutCa = await CliRunner.RunAsync(["get", "tls/k3"], first, environment: environment);
        Assert.Equal(1, withoutCa.ExitCode);
        Assert.Contains("certificate is not trusted", withoutCa.Stderr, StringComparison.Ordinal);
        var missingCa = await CliRunner.RunAsync(["get", "tls/k3", "--ca-file", Path.Combine(elsewhere, "none.crt")], first, environment: environment);
        Assert.Equal(2, missingCa.ExitCode);
        Assert.Contains("none.crt", missingCa.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, await up.StopAsync(StopDeadline));
    }
}
