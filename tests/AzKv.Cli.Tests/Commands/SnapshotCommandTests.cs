using System.Globalization;
using System.Text.Json;
using AzKv.Cli.Commands;
using AzKv.Cli.Tests.Support;
using AzKv.Testing.Cli;

namespace AzKv.Cli.Tests.Commands;

/// <summary><c>azkv snapshot create|list|get|delete</c> as real processes against a node started by <c>azkv up</c>.</summary>
[Collection(CliProcessCollection.Name)]
public sealed class SnapshotCommandTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("3600", 3600L)]
    [InlineData("90s", 90L)]
    [InlineData("30m", 1800L)]
    [InlineData("12h", 43200L)]
    [InlineData("7d", 604800L)]
    public void TryParseRetention_WhenValid_ReturnsTheSeconds(string? text, long? seconds)
    {
        Assert.True(SnapshotCommand.TryParseRetention(text, out var retention));
        Assert.Equal(seconds, retention is { } r ? (long)r.TotalSeconds : null);
    }

    [Theory]
    [InlineData("d")]
    [InlineData("-1h")]
    [InlineData("1w")]
    [InlineData("1.5h")]
    [InlineData("99999999999999999d")]
    public void TryParseRetention_WhenInvalid_ReturnsFalse(string text)
    {
        Assert.False(SnapshotCommand.TryParseRetention(text, out _));
    }

    [Fact]
    public async Task Snapshot_WhenCreatedListedReadAndDeleted_PrintsItsMetadataAndFrozenItems()
    {
        var port = Ports.GetFree();
        await using var up = UpProcess.Start("--nodes", "1", "--base-port", port.ToString(CultureInfo.InvariantCulture), "--partitions", "4");
        await up.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var url = Assert.Single(up.Nodes).Url.GetLeftPart(UriPartial.Authority);
        Assert.Equal(0, (await Run(url, "put", "app/color", "blue")).ExitCode);
        Assert.Equal(0, (await Run(url, "put", "app/color", "red", "--label", "prod")).ExitCode);
        Assert.Equal(0, (await Run(url, "put", "app/size", "M")).ExitCode);

        var created = await Run(url, "snapshot", "create", "rel-1", "--prefix", "app/", "--retention", "2h");
        var prod = await Run(url, "snapshot", "create", "rel-prod", "--prefix", "app/", "--label", "prod");
        Assert.Equal(0, (await Run(url, "put", "app/color", "green")).ExitCode);
        var duplicate = await Run(url, "snapshot", "create", "rel-1", "--prefix", "app/");
        var list = await Run(url, "snapshot", "list");
        var get = await Run(url, "snapshot", "get", "rel-1");
        var items = await Run(url, "snapshot", "get", "rel-1", "--items", "--json");
        var prodItems = await Run(url, "snapshot", "get", "rel-prod", "--items");
        var deleted = await Run(url, "snapshot", "delete", "rel-1");
        var missing = await Run(url, "snapshot", "get", "rel-1");
        var deletedAgain = await Run(url, "snapshot", "delete", "rel-1");

        Assert.True(created.ExitCode == 0, created.ToString());
        var metadata = JsonDocument.Parse(created.StdoutText).RootElement;
        Assert.Equal(2, metadata.GetProperty("itemCount").GetInt32());
        Assert.Equal(7200, metadata.GetProperty("retentionSeconds").GetInt64());
        Assert.Equal(0, prod.ExitCode);
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("snapshot-exists", duplicate.Stderr, StringComparison.Ordinal);
        var rows = list.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("NAME", rows[0], StringComparison.Ordinal);
        Assert.Equal(["rel-1", "rel-prod"], rows.Skip(1).Select(r => r.Split(' ')[0]));
        Assert.Equal("rel-1", JsonDocument.Parse(get.StdoutText).RootElement.GetProperty("name").GetString());
        var lines = items.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["app/color", "app/size"], lines.Select(l => l.GetProperty("key").GetString()));
        Assert.Equal("blue"u8.ToArray(), lines[0].GetProperty("value").GetBytesFromBase64());
        Assert.Contains("red", prodItems.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain("app/size", prodItems.StdoutText, StringComparison.Ordinal);
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal(3, missing.ExitCode);
        Assert.Equal(3, deletedAgain.ExitCode);
        Assert.Equal(0, await up.StopAsync(TimeSpan.FromSeconds(30)));
    }

    private static Task<CliResult> Run(string url, params string[] args) => CliRunner.RunAsync(args, url);
}
