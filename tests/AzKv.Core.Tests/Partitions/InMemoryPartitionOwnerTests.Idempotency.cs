using System.Text;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Testing;
using AzKv.Versioning;

namespace AzKv.Core.Tests.Partitions;

/// <summary>Exactly-once writes: Idempotency-Keys in the writer, the batch, checkpoints and takeovers.</summary>
public sealed partial class InMemoryPartitionOwnerTests
{
    [Fact]
    public async Task WriteAsync_WhenRetriedWithTheSameIdempotencyKey_AnswersTheOriginalOutcomeAndWritesOnce()
    {
        var owner = await OpenAsync();

        var first = await PutKeyedAsync(owner, "k", "v1", "op-1");
        var retry = await PutKeyedAsync(owner, "k", "v1", "op-1");

        Assert.Equal(WriteStatus.Committed, first.Status);
        Assert.False(first.Replayed);
        Assert.Equal(WriteStatus.Committed, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(first.ETag, retry.ETag);
        Assert.True(retry.Created);
        Assert.Equal(1, retry.Lsn);
        Assert.Equal(1, owner.Lsn);
    }

    [Fact]
    public async Task WriteAsync_WhenADeleteIsRetriedWithItsKey_AnswersTheOriginalDelete()
    {
        var owner = await OpenAsync();
        await PutAsync(owner, "k", "v1");

        var first = await DeleteKeyedAsync(owner, "k", "del-1");
        var retry = await DeleteKeyedAsync(owner, "k", "del-1");

        // Without the key the retry would be a 404: the first attempt deleted the key.
        Assert.Equal(WriteStatus.Committed, retry.Status);
        Assert.Equal(first.ETag, retry.ETag);
        Assert.Equal(2, owner.Lsn);
    }

    [Fact]
    public async Task WriteAsync_WhenTheKeyIsReusedForAnotherRequest_IsRefusedAndWritesNothing()
    {
        var owner = await OpenAsync();
        var first = await PutKeyedAsync(owner, "k", "v1", "op-1");

        var otherBody = await PutKeyedAsync(owner, "k", "v2", "op-1");
        var otherPrecondition = await PutKeyedAsync(owner, "k", "v1", "op-1", PreconditionKind.IfMatch, first.ETag);
        var otherOperation = await DeleteKeyedAsync(owner, "k", "op-1");

        Assert.Equal(WriteStatus.IdempotencyKeyReused, otherBody.Status);
        Assert.Equal(WriteStatus.IdempotencyKeyReused, otherPrecondition.Status);
        Assert.Equal(WriteStatus.IdempotencyKeyReused, otherOperation.Status);
        Assert.Equal("v1", Read(owner, "k"));
        Assert.Equal(1, owner.Lsn);
    }

    [Fact]
    public async Task WriteAsync_WhenTheSameIdempotencyKeyIsUsedOnAnotherDataKey_ItIsAnotherWrite()
    {
        var owner = await OpenAsync();

        await PutKeyedAsync(owner, "a", "v", "op-1");
        var other = await PutKeyedAsync(owner, "b", "v", "op-1");

        // Keys are scoped per partition and data key.
        Assert.Equal(WriteStatus.Committed, other.Status);
        Assert.False(other.Replayed);
        Assert.Equal(2, owner.Lsn);
    }

    [Fact]
    public async Task WriteAsync_WhenARetryArrivesWhileTheOriginalIsPendingInTheSameBatch_SharesItsOutcome()
    {
        var owner = await OpenAsync();
        _store.Faults.AddLatency(BlobOperation.AppendBlock, TimeSpan.FromSeconds(1));
        var blocker = PutAsync(owner, "other", "x");
        await AdvanceUntilAsync(() => _store.Faults.GetCallCount(BlobOperation.AppendBlock) > 0);

        // While the first append is in flight these three queue up and are decided as one batch.
        var original = PutKeyedAsync(owner, "k", "v1", "op-1");
        var retry = PutKeyedAsync(owner, "k", "v1", "op-1");
        var reused = PutKeyedAsync(owner, "k", "v2", "op-1");
        var outcomes = await PumpAsync(Task.WhenAll(blocker, original, retry, reused));

        Assert.All(outcomes, o => Assert.NotEqual(WriteStatus.OutcomeUnknown, o.Status));
        Assert.Equal(2, _store.Faults.GetCallCount(BlobOperation.AppendBlock));
        Assert.Equal(WriteStatus.Committed, outcomes[1].Status);
        Assert.Equal(WriteStatus.Committed, outcomes[2].Status);
        Assert.True(outcomes[2].Replayed);
        Assert.Equal(outcomes[1].ETag, outcomes[2].ETag);
        Assert.Equal(outcomes[1].Lsn, outcomes[2].Lsn);
        Assert.Equal(WriteStatus.IdempotencyKeyReused, outcomes[3].Status);
        Assert.Equal(2, owner.Lsn);
        Assert.Equal("v1", Read(owner, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenTheBatchOfAnOriginalAndItsRetryIsInDoubt_BothAreOutcomeUnknown()
    {
        var owner = await OpenAsync();
        _store.Faults.AddLatency(BlobOperation.AppendBlock, TimeSpan.FromMinutes(1));
        var blocker = PutAsync(owner, "other", "x");
        await AdvanceUntilAsync(() => _store.Faults.GetCallCount(BlobOperation.AppendBlock) > 0);
        var original = PutKeyedAsync(owner, "k", "v1", "op-1");
        var retry = PutKeyedAsync(owner, "k", "v1", "op-1");
        await PumpAsync(blocker);
        await AdvanceUntilAsync(() => _store.Faults.GetCallCount(BlobOperation.AppendBlock) >= 2);

        // The batch of the original and its retry is in flight; a step-down cancels it.
        await owner.DisposeAsync();

        var outcomes = await Task.WhenAll(original, retry);
        Assert.Equal(WriteStatus.OutcomeUnknown, outcomes[0].Status);
        Assert.Equal(WriteStatus.OutcomeUnknown, outcomes[1].Status);
    }

    [Fact]
    public async Task WriteAsync_WhenRetriedAfterACheckpointAndHandOver_TheNewOwnerAnswersFromTheCheckpoint()
    {
        var owner = await OpenAsync();
        var first = await PutKeyedAsync(owner, "k", "v1", "op-1");
        await PutAsync(owner, "k", "v2");
        Assert.Equal(2, await PumpAsync(owner.CheckpointAsync(CancellationToken.None)));
        await owner.HandOverAsync(CancellationToken.None);

        var successor = await OpenAsync("node-b", TakeoverMode.WaitForExpiry);
        var retry = await PutKeyedAsync(successor, "k", "v1", "op-1");

        Assert.NotNull((await ReadManifestAsync()).Checkpoint);
        Assert.Equal(1, successor.State.Idempotency.Count);
        Assert.Equal(WriteStatus.Committed, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(first.ETag, retry.ETag);
        Assert.True(retry.Created);
        Assert.Equal(2, successor.Lsn);
        Assert.Equal("v2", Read(successor, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenRetriedAtANewOwnerAfterTheOldOneDied_TheNewOwnerAnswersFromTheLog()
    {
        var owner = await OpenAsync();
        var first = await PutKeyedAsync(owner, "k", "v1", "op-1");
        await owner.AbandonAsync();

        var successor = await OpenAsync("node-b");
        var retry = await PumpAsync(PutKeyedAsync(successor, "k", "v1", "op-1"));
        var reused = await PumpAsync(PutKeyedAsync(successor, "k", "other", "op-1"));

        Assert.Equal(WriteStatus.Committed, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(first.ETag, retry.ETag);
        Assert.Equal(WriteStatus.IdempotencyKeyReused, reused.Status);
        Assert.Equal(1, successor.Lsn);
    }

    [Fact]
    public async Task WriteAsync_WhenACasWithAKeyHasAnUnknownOutcome_ItsRetryAtTheSuccessorAnswersTheCommit()
    {
        var owner = await OpenAsync();
        var start = await PutAsync(owner, "k", "v1");
        _store.Faults.LoseNextResponses(BlobOperation.AppendBlock, 1);
        _store.Faults.FailNext(BlobOperation.AppendBlock, 10_000);

        var outcome = await PumpAsync(PutKeyedAsync(owner, "k", "v2", "cas-1", PreconditionKind.IfMatch, start.ETag));

        Assert.Equal(WriteStatus.OutcomeUnknown, outcome.Status);
        _store.Faults.Clear();
        var successor = await OpenAsync("node-b");
        // Without the key this retry fails its precondition on its own first attempt (see the test above).
        var retry = await PumpAsync(PutKeyedAsync(successor, "k", "v2", "cas-1", PreconditionKind.IfMatch, start.ETag));
        Assert.Equal(WriteStatus.Committed, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(2, successor.Lsn);
        Assert.Equal("v2", Read(successor, "k"));
    }

    [Fact]
    public async Task WriteAsync_WhenTheWindowHasPassed_TheKeyIsForgottenAndTheWriteAppliesAgain()
    {
        var options = new PartitionOptions
        {
            LeaseDuration = Options.LeaseDuration,
            LeaseRenewInterval = Options.LeaseRenewInterval,
            LeaseSafetyMargin = Options.LeaseSafetyMargin,
            TransientRetryBudget = Options.TransientRetryBudget,
            IdempotencyWindow = TimeSpan.FromSeconds(30),
        };
        var owner = await OpenAsync(options: options);
        var start = _clock.GetUtcNow();
        await PutKeyedAsync(owner, "k", "v1", "op-1");
        await AdvanceUntilAsync(() => _clock.GetUtcNow() > start.AddSeconds(20));
        var within = await PutKeyedAsync(owner, "k", "v1", "op-1");

        await AdvanceUntilAsync(() => _clock.GetUtcNow() > start.AddSeconds(31));
        var after = await PutKeyedAsync(owner, "k", "v1", "op-1");

        Assert.True(within.Replayed);
        Assert.Equal(WriteStatus.Committed, after.Status);
        Assert.False(after.Replayed);
        Assert.Equal(2, owner.Lsn);
        Assert.Equal(1, owner.State.Idempotency.Count);
    }

    private static Task<WriteOutcome> PutKeyedAsync(
        PartitionOwner owner, string key, string value, string idempotencyKey, PreconditionKind precondition = PreconditionKind.None, string? ifMatch = null)
    {
        VersionVector? context = null;
        if (ifMatch is not null)
        {
            Assert.True(VersionVector.TryParseETag(ifMatch, out context));
        }

        return owner.WriteAsync(
            new WriteCommand
            {
                Key = key,
                Value = Encoding.UTF8.GetBytes(value),
                ContentType = "text/plain",
                Precondition = precondition,
                IfMatch = context,
                IdempotencyKey = idempotencyKey,
            },
            CancellationToken.None).AsTask();
    }

    private static Task<WriteOutcome> DeleteKeyedAsync(PartitionOwner owner, string key, string idempotencyKey) =>
        owner.WriteAsync(new WriteCommand { Key = key, Kind = WriteKind.Delete, IdempotencyKey = idempotencyKey }, CancellationToken.None).AsTask();
}
