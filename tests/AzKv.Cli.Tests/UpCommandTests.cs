using System.Globalization;
using System.Net.Sockets;
using System.Net;
using System.Text.Json;
using System.Text;
using AzKv.Cli.Tests.Support;
using AzKv.Testing.Cli;

namespace AzKv.Cli.Tests;

/// <summary><c>azkv up</c> and the client commands, run as real processes against real nodes on Azurite.</summary>
[Collection(CliProcessCollection.Name)]
public sealed class UpCommandTests : IDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    private readonly string _temp = Path.Combine(Path.GetTempPath(), "azkv-cli-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public UpCommandTests()
    {
        Directory.CreateDirectory(_temp);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    [Fact]
    public async Task Up_WhenStartedWithOneNode_ServesTheClientCommandsAndStopsCleanlyOnSigterm()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--nodes", "1", "--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "4");
        await up.WaitUntilReadyAsync(ReadyDeadline);

        var node = Assert.Single(up.Nodes);
        Assert.Equal("local", node.Region);
        Assert.Equal("node-1", node.NodeId);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}"), node.Url);
        Assert.True(File.Exists(Path.Combine(up.LogDirectory!, "node-1.log")), up.Describe());
        var azuritePid = int.Parse(up.StdoutLines.Single(l => l.StartsWith("azurite ", StringComparison.Ordinal)).Split(' ')[2], CultureInfo.InvariantCulture);
        var url = node.Url.GetLeftPart(UriPartial.Authority);

        // put: created, then replaced; the ETag is printed first.
        var created = await Run(url, "put", "app/color", "blue");
        Assert.Equal(0, created.ExitCode);
        Assert.Matches("^\"[^\"]+\" created\n$", created.StdoutText);
        var firstETag = created.StdoutText.Split(' ')[0];
        var replaced = await Run(url, "put", "app/color", "green");
        Assert.Matches("^\"[^\"]+\" replaced\n$", replaced.StdoutText);
        var secondETag = replaced.StdoutText.Split(' ')[0];

        // get: raw bytes; --etag; not found is exit code 3.
        Assert.Equal("green", (await Run(url, "get", "app/color")).StdoutText);
        Assert.Equal(secondETag + "\n", (await Run(url, "get", "app/color", "--etag")).StdoutText);
        var missing = await Run(url, "get", "app/missing");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr, StringComparison.Ordinal);

        // Conditions: a stale --if-match and --create-only on an existing key are exit code 4.
        Assert.Equal(4, (await Run(url, "put", "app/color", "red", "--if-match", firstETag)).ExitCode);
        Assert.Equal(4, (await Run(url, "put", "app/color", "red", "--create-only")).ExitCode);
        Assert.Equal(0, (await Run(url, "put", "app/color", "red", "--if-match", secondETag)).ExitCode);

        // Binary values from a file and from stdin round-trip byte for byte.
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var input = Path.Combine(_temp, "in.bin");
        await File.WriteAllBytesAsync(input, binary);
        Assert.Equal(0, (await Run(url, "put", "app/blob", "--file", input)).ExitCode);
        var output = Path.Combine(_temp, "out.bin");
        Assert.Equal(0, (await Run(url, "get", "app/blob", "--output", output)).ExitCode);
        Assert.Equal(binary, await File.ReadAllBytesAsync(output));
        Assert.Equal(0, (await CliRunner.RunAsync(["put", "app/piped"], url, stdin: [1, 2, 3, 0, 10])).ExitCode);
        Assert.Equal(new byte[] { 1, 2, 3, 0, 10 }, (await Run(url, "get", "app/piped")).Stdout);

        // list: JSON lines with every key in byte order, and a table.
        var json = await Run(url, "list", "--prefix", "app/", "--json", "--values");
        var items = json.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["app/blob", "app/color", "app/piped"], items.Select(i => i.GetProperty("key").GetString()));
        Assert.Equal("red", Encoding.UTF8.GetString(items[1].GetProperty("value").GetBytesFromBase64()));
        Assert.Equal(256, items[0].GetProperty("size").GetInt32());
        Assert.StartsWith("\"", items[0].GetProperty("etag").GetString(), StringComparison.Ordinal);
        Assert.Equal("application/octet-stream", items[0].GetProperty("contentType").GetString());
        var table = (await Run(url, "list", "--prefix", "app/", "--limit", "2")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, table.Length);
        Assert.StartsWith("KEY", table[0], StringComparison.Ordinal);
        Assert.StartsWith("app/blob ", table[1], StringComparison.Ordinal);
        Assert.StartsWith("app/color ", table[2], StringComparison.Ordinal);

        // cluster: the node and its four serving partitions.
        var cluster = JsonDocument.Parse((await Run(url, "cluster", "--json")).StdoutText).RootElement;
        Assert.Equal("local", cluster.GetProperty("region").GetString());
        Assert.Equal(4, cluster.GetProperty("partitionCount").GetInt32());
        Assert.All(cluster.GetProperty("partitions").EnumerateArray(), p => Assert.Equal("node-1", p.GetProperty("owner").GetString()));

        // delete: then the key is gone; deleting again is exit code 3.
        var deleted = await Run(url, "delete", "app/color");
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal("deleted\n", deleted.StdoutText);
        Assert.Equal(3, (await Run(url, "get", "app/color")).ExitCode);
        Assert.Equal(3, (await Run(url, "delete", "app/color")).ExitCode);

        // SIGTERM: exit code 0, and neither the node nor Azurite outlives up.
        Assert.Equal(0, await up.StopAsync(StopDeadline));
        Assert.True(await UpProcess.IsGoneAsync(node.ProcessId, TimeSpan.FromSeconds(5)), $"node-1 (pid {node.ProcessId}) still runs.\n{up.Describe()}");
        Assert.True(await UpProcess.IsGoneAsync(azuritePid, TimeSpan.FromSeconds(5)), $"Azurite (pid {azuritePid}) still runs.");
        Assert.Contains("stopped", up.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_WhenRestartedWithTheSameData_FindsEveryKeyWrittenBefore()
    {
        var data = Path.Combine(_temp, "data");
        var port = Ports.GetFree().ToString(CultureInfo.InvariantCulture);
        string url;
        await using (var first = UpProcess.Start("--base-port", port, "--data", data, "--partitions", "4"))
        {
            await first.WaitUntilReadyAsync(ReadyDeadline);
            url = first.Nodes[0].Url.GetLeftPart(UriPartial.Authority);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(0, (await Run(url, "put", $"keep/{i}", $"value {i}")).ExitCode);
            }

            Assert.Equal(0, (await Run(url, "delete", "keep/4")).ExitCode);
            Assert.Equal(0, await first.StopAsync(StopDeadline));
        }

        Assert.True(Directory.Exists(Path.Combine(data, "azurite")));
        await using var second = UpProcess.Start("--base-port", port, "--data", data, "--partitions", "4");
        await second.WaitUntilReadyAsync(ReadyDeadline);

        for (var i = 0; i < 4; i++)
        {
            var get = await Run(url, "get", $"keep/{i}");
            Assert.True(get.ExitCode == 0, get.ToString());
            Assert.Equal($"value {i}", get.StdoutText);
        }

        Assert.Equal(3, (await Run(url, "get", "keep/4")).ExitCode);
        var listed = (await Run(url, "list", "--prefix", "keep/", "--json")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, listed.Length);
        Assert.Equal(0, await second.StopAsync(StopDeadline));
    }

    [Fact]
    public async Task Watch_WhenKeysChange_PrintsOneJsonLinePerChangeAndExitsZeroOnSigterm()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "4");
        await up.WaitUntilReadyAsync(ReadyDeadline);
        var url = up.Nodes[0].Url.GetLeftPart(UriPartial.Authority);

        await using var watch = WatchProcess.Start(url, "--prefix", "w/", "--json");
        // The watch starts "from now": write until it reports a change (no sleep decides correctness).
        var line = await watch.WaitForLineAsync(async i => await Run(url, "put", $"w/{i}", "x"), TimeSpan.FromSeconds(30));
        await Run(url, "put", "other/ignored", "x");
        await Run(url, "delete", "w/0");

        var change = JsonDocument.Parse(line).RootElement;
        Assert.Equal("put", change.GetProperty("type").GetString());
        Assert.StartsWith("w/", change.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(change.GetProperty("cursor").GetString()));
        Assert.Equal(0, await watch.StopAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain("other/ignored", watch.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_WhenStartedWithFrontEnds_PrintsThemAfterTheNodesAndServesEveryKeyThroughThem()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--nodes", "1", "--frontends", "1", "--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "4");
        await up.WaitUntilReadyAsync(ReadyDeadline);

        var node = Assert.Single(up.Nodes);
        var frontEnd = Assert.Single(up.FrontEnds);
        Assert.Equal("frontend-1", frontEnd.NodeId);
        Assert.Equal(new Uri($"http://127.0.0.1:{port + 1}"), frontEnd.Url);
        Assert.True(File.Exists(Path.Combine(up.LogDirectory!, "frontend-1.log")), up.Describe());
        var front = frontEnd.Url.GetLeftPart(UriPartial.Authority);
        var owner = node.Url.GetLeftPart(UriPartial.Authority);

        // Written through the front end (it owns nothing, so it forwards), read from the owner, and back.
        Assert.Equal(0, (await Run(front, "put", "split/a", "through the front end")).ExitCode);
        Assert.Equal("through the front end", (await Run(owner, "get", "split/a")).StdoutText);
        Assert.Equal(0, (await Run(owner, "put", "split/b", "at the owner")).ExitCode);
        Assert.Equal("at the owner", (await Run(front, "get", "split/b")).StdoutText);
        var listed = (await Run(front, "list", "--prefix", "split/", "--json")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, listed.Length);

        // The front end is a member with the frontend role only; node-1 owns every partition.
        var cluster = JsonDocument.Parse((await Run(front, "cluster", "--json")).StdoutText).RootElement;
        Assert.Equal("frontend-1", cluster.GetProperty("nodeId").GetString());
        Assert.All(cluster.GetProperty("partitions").EnumerateArray(), p => Assert.Equal("node-1", p.GetProperty("owner").GetString()));
        var member = Assert.Single(cluster.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("nodeId").GetString() == "frontend-1");
        Assert.Equal(["frontend"], member.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        Assert.Equal(0, await up.StopAsync(StopDeadline));
        Assert.True(await UpProcess.IsGoneAsync(frontEnd.ProcessId, TimeSpan.FromSeconds(5)), $"frontend-1 (pid {frontEnd.ProcessId}) still runs.\n{up.Describe()}");
    }

    [Fact]
    public async Task Get_WhenNoNodeListensAtTheUrl_FailsNamingTheUrlAndSuggestingUp()
    {
        var url = $"http://127.0.0.1:{Ports.GetFree()}";

        var result = await Run(url, "get", "any");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(url, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("azkv up", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_WhenTheUrlIsNotAUrl_FailsWithUsageExitCode()
    {
        var result = await CliRunner.RunAsync(["get", "any", "--url", "not a url"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--url", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_WhenTheBasePortIsInUse_FailsNamingThePortBeforeStartingAnything()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        await using var up = UpProcess.Start("--base-port", port.ToString(CultureInfo.InvariantCulture));
        var exitCode = await up.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Contains($"port {port}", up.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(up.StdoutLines, l => l.StartsWith("node ", StringComparison.Ordinal));
    }

    private static Task<CliResult> Run(string url, params string[] args) => CliRunner.RunAsync(args, url);
}
