using System.Text;
using AzKv.Partitions;
using AzKv.Testing;

namespace AzKv.Core.Tests.Partitions;

/// <summary>A caller that stops waiting for its write: the wait ends, the write itself goes on.</summary>
public sealed partial class InMemoryPartitionOwnerTests
{
    [Fact]
    public async Task WriteAsync_WhenTheCallerCancelsWhileTheAppendIsInFlight_ThrowsAndTheWriteStillCommits()
    {
        var owner = await OpenAsync();
        _store.Faults.AddLatency(BlobOperation.AppendBlock, TimeSpan.FromMinutes(1));
        using var cancel = new CancellationTokenSource();
        var write = owner.WriteAsync(Put("k", "v"), cancel.Token).AsTask();
        await AdvanceUntilAsync(() => _store.Faults.GetCallCount(BlobOperation.AppendBlock) > 0);

        await cancel.CancelAsync();

        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write);
        Assert.Equal(cancel.Token, thrown.CancellationToken);
        await AdvanceUntilAsync(() => owner.Lsn == 1);
        Assert.Equal("v", Read(owner, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenTheTokenIsAlreadyCancelled_ThrowsAndWritesNothing()
    {
        var owner = await OpenAsync();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => owner.WriteAsync(Put("k", "v"), cancel.Token).AsTask());

        // A later write is the first record: the cancelled one never reached the queue.
        var next = await PumpAsync(PutAsync(owner, "other", "x"));
        Assert.Equal(1, next.Lsn);
        Assert.Null(Read(owner, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenTheTokenIsCancelledAfterTheWriteCommitted_ReturnsTheOutcome()
    {
        var owner = await OpenAsync();
        _store.Faults.AddLatency(BlobOperation.AppendBlock, TimeSpan.FromSeconds(2));
        using var cancel = new CancellationTokenSource();
        var write = owner.WriteAsync(Put("k", "v"), cancel.Token);
        await AdvanceUntilAsync(() => write.IsCompleted);

        await cancel.CancelAsync();

        var outcome = await write;
        Assert.Equal(WriteStatus.Committed, outcome.Status);
        Assert.Equal(1, outcome.Lsn);
    }

    private static WriteCommand Put(string key, string value) =>
        new() { Key = key, Value = Encoding.UTF8.GetBytes(value), ContentType = "text/plain" };
}
