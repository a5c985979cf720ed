using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Threading;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;

namespace AzKv.Replication;

/// <summary>One committed record as the replication log carries it.</summary>
/// <param name="Partition">The kv partition.</param>
/// <param name="Lsn">Its LSN in this region's partition log.</param>
/// <param name="Key">The key.</param>
/// <param name="Write">The write (its dot names the origin region).</param>
/// <param name="Encoded">The WAL record bytes (length, CRC32C, body), as in the segment.</param>
public sealed record PublishedRecord(int Partition, long Lsn, string Key, CausalWrite Write, ReadOnlyMemory<byte> Encoded);

/// <summary>
/// Where a region's owners publish their committed records for the other regions (the I/O seam of
/// <see cref="ReplicationPublisher"/>; the Event Hubs implementation lives with the Azure clients).
/// </summary>
public interface IReplicationLogSink
{
    /// <summary>Publishes records of one partition, in LSN order; completes once the log holds them durably.</summary>
    Task PublishAsync(int partition, IReadOnlyList<PublishedRecord> records, CancellationToken cancellationToken);
}

/// <summary>Where a publisher stands.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="PublishedLsn">The last LSN the log holds (0 before the first).</param>
/// <param name="PublishedRecords">Records published since this publisher started.</param>
/// <param name="LastError">The last failure, cleared by the next good round.</param>
internal sealed record PublisherProgress(int Partition, long PublishedLsn, long PublishedRecords, string? LastError);

/// <summary>
/// Publishes a partition's committed records, in LSN order, to the region's replication log while
/// this node owns the partition. It tails the partition's own WAL (so it never sits on the write
/// path: a client's acknowledgement never waits for it), wakes on the partition's change feed, and
/// keeps its position durable in <c>replication-published/{p:D4}.json</c> (compare-and-swap): a new
/// owner resumes after the last LSN saved, so the log may repeat records after a crash or a takeover
/// but never skips one. Every record is published, whatever its origin, so a reader sees gap-free
/// LSNs and can tell a gap (retention, a recreated hub) from "nothing new".
/// </summary>
internal sealed partial class ReplicationPublisher : IAsyncDisposable
{
    /// <summary>Records per read of the own WAL (and at most per publish call).</summary>
    private const int MaxRecordsPerRound = 512;

    /// <summary>Safety-net wake-up when the change feed says nothing (a reset feed, a missed signal).</summary>
    private static readonly TimeSpan IdleWake = TimeSpan.FromSeconds(1);

    /// <summary>Wait after a failed round (hub or storage unreachable) before retrying.</summary>
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>Saving the position once per interval bounds the storage cost; a crash repeats at most this much.</summary>
    private static readonly TimeSpan SaveInterval = TimeSpan.FromMilliseconds(500);

    private readonly PartitionOwner _owner;
    private readonly ChangeFeed _feed;
    private readonly IBlobStore _local;
    private readonly BlobTailTransport _ownLog;
    private readonly IReplicationLogSink _sink;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _positionBlob;
    private readonly BackgroundLoop _loop = new();
    private string? _positionETag;
    private PublisherProgress _progress;

    /// <summary>Creates a publisher for <paramref name="owner"/>'s partition in <paramref name="region"/>; call <see cref="Start"/>.</summary>
    public ReplicationPublisher(PartitionOwner owner, ChangeFeed feed, IBlobStore localStorage, string region, IReplicationLogSink sink, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(sink);
        _owner = owner;
        _feed = feed;
        _local = localStorage;
        _ownLog = new BlobTailTransport(region, localStorage);
        _sink = sink;
        _time = time;
        _logger = logger;
        _positionBlob = PositionBlob(owner.Partition);
        _progress = new PublisherProgress(owner.Partition, 0, 0, null);
    }

    /// <summary>Where this publisher stands.</summary>
    public PublisherProgress Progress => Volatile.Read(ref _progress);

    /// <summary>The blob holding a partition's published position.</summary>
    public static string PositionBlob(int partition) => $"replication-published/{partition:D4}.json";

    /// <summary>Starts publishing in the background.</summary>
    public void Start() => _loop.Start(RunAsync);

    /// <summary>Stops (after saving the position reached) and waits (idempotent).</summary>
    public ValueTask DisposeAsync() => _loop.DisposeAsync();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        ReplicationPosition? position = null;
        ReplicationPosition? saved = null;
        var loaded = false;
        var lastSave = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested && _owner.StopReason is null)
        {
            var wait = TimeSpan.Zero;
            try
            {
                if (!loaded)
                {
                    position = saved = await LoadAsync(cancellationToken).ConfigureAwait(false);
                    loaded = true;
                }

                var batch = await _ownLog.ReadAsync(_owner.Partition, position, MaxRecordsPerRound, ReplicationScope.AllOrigins, cancellationToken).ConfigureAwait(false);
                if (batch.CatchUp is { } checkpoint)
                {
                    // Retention removed records never published (a long outage of the hub): readers
                    // see the LSN gap and catch up from the blob checkpoint; publish from there on.
                    PublisherLog.SkippedToCheckpoint(_logger, _owner.Partition, position?.Lsn ?? 0, checkpoint.Lsn);
                }

                if (batch.Records.Count > 0)
                {
                    var records = new List<PublishedRecord>(batch.Records.Count);
                    var buffer = new ArrayBufferWriter<byte>();
                    foreach (var r in batch.Records)
                    {
                        buffer.ResetWrittenCount();
                        WalCodec.Encode(buffer, r.SourceLsn, r.Key, r.Write, writer: r.Writer);
                        records.Add(new PublishedRecord(_owner.Partition, r.SourceLsn, r.Key, r.Write, buffer.WrittenMemory.ToArray()));
                    }

                    await _sink.PublishAsync(_owner.Partition, records, cancellationToken).ConfigureAwait(false);
                    PartitionMetrics.PublishedRecords.Add(records.Count);
                    Update(p => p with { PublishedLsn = records[^1].Lsn, PublishedRecords = p.PublishedRecords + records.Count, LastError = null });
                }

                position = batch.Position ?? position;
                var idle = batch.Records.Count == 0 && batch.CatchUp is null;
                if (position != saved && (idle || _time.GetElapsedTime(lastSave) >= SaveInterval))
                {
                    await SaveAsync(position!, cancellationToken).ConfigureAwait(false);
                    saved = position;
                    lastSave = _time.GetTimestamp();
                }

                if (idle)
                {
                    Update(p => p with { LastError = null });
                    using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var changed = _feed.WaitAfterAsync(position?.Lsn ?? 0, wake.Token);
                    await Task.WhenAny(changed, _owner.Stopped, Task.Delay(IdleWake, _time, wake.Token)).ConfigureAwait(false);
                    await wake.CancelAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // Any failure of the log or of storage: retry from the last position reached (which
                // may repeat records in the log, never skip one).
                PublisherLog.RoundFailed(_logger, _owner.Partition, ex.Message);
                Update(p => p with { LastError = ex.Message });
                wait = RetryInterval;
            }

            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.WhenAny(Task.Delay(wait, _time, cancellationToken), _owner.Stopped).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        if (position is not null && position != saved)
        {
            try
            {
                await SaveAsync(position, CancellationToken.None).ConfigureAwait(false);
            }
            catch (BlobStorageException ex)
            {
                PublisherLog.RoundFailed(_logger, _owner.Partition, ex.Message);
            }
        }
    }

    private async Task<ReplicationPosition?> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var download = await _local.DownloadAsync(_positionBlob, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
            _positionETag = download.Properties.ETag;
            var saved = JsonSerializer.Deserialize(download.Content.Span, PublisherJsonContext.Default.PublishedPosition);
            if (saved?.Segment is null)
            {
                return null;
            }

            Update(p => p with { PublishedLsn = saved.Lsn });
            return new ReplicationPosition(saved.Segment, saved.Offset, saved.Lsn);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
        {
            _positionETag = null;
            return null;
        }
        catch (JsonException ex)
        {
            // Unreadable: publish from the start again (the log may repeat records, never skip one).
            PublisherLog.RoundFailed(_logger, _owner.Partition, "unreadable position: " + ex.Message);
            _positionETag = (await _local.GetPropertiesAsync(_positionBlob, default, cancellationToken).ConfigureAwait(false)).ETag;
            return null;
        }
    }

    private async Task SaveAsync(ReplicationPosition position, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(
            new PublishedPosition { Partition = _owner.Partition, Segment = position.Segment, Offset = position.Offset, Lsn = position.Lsn, Updated = _time.GetUtcNow() },
            PublisherJsonContext.Default.PublishedPosition);
        var conditions = _positionETag is null ? BlobConditions.IfNotExists : BlobConditions.IfMatchETag(_positionETag);
        try
        {
            _positionETag = (await _local.PutBlockBlobAsync(
                _positionBlob, bytes, new BlobWriteOptions { ContentType = "application/json", Conditions = conditions }, cancellationToken).ConfigureAwait(false)).ETag;
        }
        catch (BlobStorageException ex) when (ex.IsPreconditionFailed)
        {
            // A previous owner saved meanwhile (finishing its last round). Ours is where this owner
            // published up to; overwriting a further position with it only repeats records.
            _positionETag = (await _local.GetPropertiesAsync(_positionBlob, default, cancellationToken).ConfigureAwait(false)).ETag;
            _positionETag = (await _local.PutBlockBlobAsync(
                _positionBlob, bytes, new BlobWriteOptions { ContentType = "application/json", Conditions = BlobConditions.IfMatchETag(_positionETag) }, cancellationToken).ConfigureAwait(false)).ETag;
        }
    }

    private void Update(Func<PublisherProgress, PublisherProgress> change) => ImmutableInterlocked.Update(ref _progress, change);

    /// <summary>The document at <c>replication-published/{p:D4}.json</c>.</summary>
    internal sealed record PublishedPosition
    {
        public int Version { get; init; } = 1;

        public int Partition { get; init; }

        public string? Segment { get; init; }

        public long Offset { get; init; }

        public long Lsn { get; init; }

        public DateTimeOffset Updated { get; init; }
    }

    private static partial class PublisherLog
    {
        [LoggerMessage(4010, LogLevel.Warning, "Publishing partition {Partition} to the replication log failed, will retry: {Error}")]
        public static partial void RoundFailed(ILogger logger, int partition, string error);

        [LoggerMessage(4011, LogLevel.Warning, "Partition {Partition}: records after LSN {Lsn} are gone from the WAL (retention) before they were published; publishing resumes after the checkpoint at LSN {CheckpointLsn}.")]
        public static partial void SkippedToCheckpoint(ILogger logger, int partition, long lsn, long checkpointLsn);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ReplicationPublisher.PublishedPosition))]
internal sealed partial class PublisherJsonContext : JsonSerializerContext;
