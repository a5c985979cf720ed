using System.Text;
using AzKv.Partitions;
using AzKv.Versioning;
using AzKv.Wal;

namespace AzKv.Core.Tests.Partitions;

/// <summary>Who made a write: in the WAL record (tag 4), the state's last writer, checkpoints and takeovers.</summary>
public sealed partial class InMemoryPartitionOwnerTests
{
    private static readonly WriterIdentity Alice = new("alice-oid", "console-app");
    private static readonly WriterIdentity Bob = new("bob-oid");

    [Fact]
    public async Task WriteAsync_WhenTheCommandNamesAWriter_TheStateKeepsItAsTheKeysLastWriter()
    {
        var owner = await OpenAsync();

        await WriteAsAsync(owner, "k", "v1", Alice);
        await WriteAsAsync(owner, "k", "v2", Bob);
        await WriteAsAsync(owner, "other", "x", Alice);

        Assert.Equal(Bob, owner.State.GetLastWrite("k")!.Writer);
        Assert.Equal(Alice, owner.State.GetLastWrite("other")!.Writer);
        Assert.Equal(owner.State.Get("k")!.Siblings[0].Hlc, owner.State.GetLastWrite("k")!.Hlc);
    }

    [Fact]
    public async Task WriteAsync_WhenTheLastWriteDoesNotNameAWriter_TheKeyHasNoLastWriter()
    {
        var owner = await OpenAsync();
        await WriteAsAsync(owner, "k", "v1", Alice);

        await PutAsync(owner, "k", "v2");

        Assert.Null(owner.State.GetLastWrite("k"));
    }

    [Fact]
    public async Task OpenAsync_WhenTheOldOwnerDiedAfterWrites_TheSuccessorReplaysTheLastWritersFromTheLog()
    {
        var owner = await OpenAsync();
        await WriteAsAsync(owner, "k", "v1", Alice);
        await DeleteAsAsync(owner, "k", Bob);
        await owner.AbandonAsync();

        var successor = await OpenAsync("node-b");

        Assert.Equal(Bob, successor.State.GetLastWrite("k")!.Writer);
    }

    [Fact]
    public async Task OpenAsync_WhenTheStateWasCheckpointed_TheLastWritersSurviveTheCheckpointAndHandOver()
    {
        var owner = await OpenAsync();
        await WriteAsAsync(owner, "a", "v1", Alice);
        await WriteAsAsync(owner, "b", "v1", Bob);
        var hlc = owner.State.GetLastWrite("a")!.Hlc;
        Assert.Equal(2, await PumpAsync(owner.CheckpointAsync(CancellationToken.None)));
        await owner.HandOverAsync(CancellationToken.None);

        var successor = await OpenAsync("node-b", TakeoverMode.WaitForExpiry);

        Assert.NotNull((await ReadManifestAsync()).Checkpoint);
        Assert.Equal(Alice, successor.State.GetLastWrite("a")!.Writer);
        Assert.Equal(hlc, successor.State.GetLastWrite("a")!.Hlc);
        Assert.Equal(Bob, successor.State.GetLastWrite("b")!.Writer);
    }

    [Fact]
    public async Task ApplyAsync_WhenARemoteWriteNamesItsOriginWriter_ItIsLoggedAndKeptAsTheLastWriter()
    {
        var owner = await OpenAsync();
        var remote = SiblingSet.Empty.Put("us", VersionVector.Empty, Encoding.UTF8.GetBytes("r"), "text/plain", 5).Write;

        var outcome = await PumpAsync(owner.ApplyAsync([new("k", remote)], [Alice], CancellationToken.None));
        await owner.AbandonAsync();
        var successor = await OpenAsync("node-b");

        Assert.Equal(1, outcome.Changed);
        Assert.Equal(Alice, owner.State.GetLastWrite("k")!.Writer);
        Assert.Equal(Alice, successor.State.GetLastWrite("k")!.Writer);
    }

    private static async Task WriteAsAsync(PartitionOwner owner, string key, string value, WriterIdentity writer)
    {
        var outcome = await owner.WriteAsync(
            new WriteCommand { Key = key, Value = Encoding.UTF8.GetBytes(value), ContentType = "text/plain", Writer = writer }, CancellationToken.None);
        Assert.Equal(WriteStatus.Committed, outcome.Status);
    }

    private static async Task DeleteAsAsync(PartitionOwner owner, string key, WriterIdentity writer)
    {
        var outcome = await owner.WriteAsync(new WriteCommand { Key = key, Kind = WriteKind.Delete, Writer = writer }, CancellationToken.None);
        Assert.Equal(WriteStatus.Committed, outcome.Status);
    }
}
