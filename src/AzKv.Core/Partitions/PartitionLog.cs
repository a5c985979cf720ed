using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

/// <summary>Source-generated log messages of partition owners. Event ids 1000–1099; never change one.</summary>
internal static partial class PartitionLog
{
    [LoggerMessage(1000, LogLevel.Warning, "Lease on {Blob} lost: {Reason}. The partition stops serving at once.")]
    public static partial void LeaseLost(ILogger logger, string blob, string reason);

    [LoggerMessage(1001, LogLevel.Warning, "Renewing the lease on {Blob} failed, will retry: {Error}")]
    public static partial void LeaseRenewFailed(ILogger logger, string blob, string error);

    [LoggerMessage(1002, LogLevel.Information, "Releasing the lease on {Blob} failed (it will expire): {Error}")]
    public static partial void LeaseReleaseFailed(ILogger logger, string blob, string error);

    [LoggerMessage(1010, LogLevel.Information, "Partition {Partition}: took ownership at epoch {Epoch}, recovered to LSN {Lsn} ({Keys} keys) in {ElapsedMs} ms.")]
    public static partial void Opened(ILogger logger, int partition, long epoch, long lsn, int keys, long elapsedMs);

    [LoggerMessage(1011, LogLevel.Warning, "Partition {Partition}: torn or corrupt tail in {Segment} at offset {Offset} ({Bytes} bytes dropped, {Reason}); truncated.")]
    public static partial void TornTail(ILogger logger, int partition, string segment, long offset, long bytes, string reason);

    [LoggerMessage(1012, LogLevel.Information, "Partition {Partition}: lease on {Segment} is held by another owner; waiting for it to expire or be broken.")]
    public static partial void LeaseBusy(ILogger logger, int partition, string segment);

    [LoggerMessage(1013, LogLevel.Information, "Partition {Partition}: breaking the lease on {Segment} (break period {BreakSeconds} s).")]
    public static partial void BreakingLease(ILogger logger, int partition, string segment, double breakSeconds);

    [LoggerMessage(1024, LogLevel.Warning, "Partition {Partition}: the lease on {Segment} was taken again after a break; waited {WaitedSeconds} s, another break period of {BreakSeconds} s would pass the {BudgetSeconds} s budget (lease + margin): busy, trying again later.")]
    public static partial void BreakWaitOverBudget(ILogger logger, int partition, string segment, double waitedSeconds, double breakSeconds, double budgetSeconds);

    [LoggerMessage(1014, LogLevel.Warning, "Partition {Partition}: stepping down: {Reason}")]
    public static partial void SteppingDown(ILogger logger, int partition, string reason);

    [LoggerMessage(1015, LogLevel.Information, "Partition {Partition}: rolled over to {Segment} at LSN {Lsn}.")]
    public static partial void RolledOver(ILogger logger, int partition, string segment, long lsn);

    [LoggerMessage(1016, LogLevel.Information, "Partition {Partition}: checkpoint {Checkpoint} written at LSN {Lsn} ({Bytes} bytes).")]
    public static partial void CheckpointWritten(ILogger logger, int partition, string checkpoint, long lsn, long bytes);

    [LoggerMessage(1017, LogLevel.Warning, "Partition {Partition}: writing a checkpoint failed: {Error}")]
    public static partial void CheckpointFailed(ILogger logger, int partition, string error);

    [LoggerMessage(1018, LogLevel.Information, "Partition {Partition}: deleted {Count} segment(s) and checkpoint(s) past retention.")]
    public static partial void RetentionDeleted(ILogger logger, int partition, int count);

    [LoggerMessage(1019, LogLevel.Warning, "Partition {Partition}: append failed transiently, retrying: {Error}")]
    public static partial void AppendRetry(ILogger logger, int partition, string error);

    [LoggerMessage(1020, LogLevel.Information, "Partition {Partition}: handed over (writes drained, manifest marked ownerless, lease released or left to expire).")]
    public static partial void HandedOver(ILogger logger, int partition);

    [LoggerMessage(1021, LogLevel.Warning, "Partition {Partition}: an append whose answer was lost had landed; treated as committed.")]
    public static partial void AmbiguousAppendLanded(ILogger logger, int partition);

    [LoggerMessage(1022, LogLevel.Error, "Partition {Partition}: the writer loop failed unexpectedly; stepping down.")]
    public static partial void WriterFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(1023, LogLevel.Critical, "Partition {Partition}: corrupt data in {Blob} at offset {Offset} ({Reason}); the partition stops and will not be opened over it.")]
    public static partial void CorruptData(ILogger logger, int partition, string blob, long offset, string reason);
}
