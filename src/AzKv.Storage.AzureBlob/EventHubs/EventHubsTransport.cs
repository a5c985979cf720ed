using System.Collections.Concurrent;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Wal;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Microsoft.Extensions.Logging;

namespace AzKv.Storage.AzureBlob.EventHubs;

/// <summary>
/// Reads a source region's writes from its event hub (<c>azkv-&lt;source&gt;</c>, consumer group = this
/// region), falling back to the blob tail of its WAL for what a hub cannot do.
/// </summary>
/// <remarks>
/// <para>Per kv partition: a receiver on hub partition <c>p mod count</c> from the saved sequence number
/// (<see cref="ReplicationPosition.HubSequence"/>); events of other kv partitions and LSNs at or
/// below the applied one are dropped. The publisher publishes every record, so LSNs are gap-free: an
/// event whose LSN is beyond applied + 1 (retention expired, the hub was recreated, a publisher lost
/// its position), a pointer event (a record over the event size limit), an undecodable body or a
/// failing hub switches the partition to the blob tail (<see cref="BlobTailTransport"/>, which catches
/// up from the source's checkpoint when its segments are gone too), never skipping a record. Once the
/// blob tail has nothing more, the partition returns to the hub, from the sequence number it had
/// (duplicates are dropped).</para>
/// <para>Bootstrap reads (<see cref="ReplicationScope.AllOrigins"/>) always use the blob tail.</para>
/// </remarks>
public sealed partial class EventHubsTransport : IHubReplicationTransport, IReplicationWakeSource, IAsyncDisposable
{
    /// <summary>Longest wait of one hub read for a first event (the consumer loops straight back).</summary>
    private static readonly TimeSpan ReceiveWait = TimeSpan.FromSeconds(1);

    /// <summary>After a hub failure, the partition stays on the blob tail this long before trying the hub again.</summary>
    private static readonly TimeSpan HubRetryDelay = TimeSpan.FromSeconds(15);

    /// <summary>How often an idle partition checks the hub partition's range for events lost unread.</summary>
    private static readonly TimeSpan HubCheckInterval = TimeSpan.FromSeconds(5);

    private readonly string _consumerGroup;
    private readonly EventHubsEndpoint _endpoint;
    private readonly IReplicationTransport _blobTail;
    private readonly TimeProvider _time;
    private IReplicationWakeSource? _blobWake;
    private ILogger _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private readonly ConcurrentDictionary<int, PartitionState> _partitions = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private EventHubConnection? _connection;
    private string[]? _hubPartitions;

    /// <summary>Creates a transport reading <paramref name="sourceRegion"/>'s hub as <paramref name="destinationRegion"/>.</summary>
    /// <param name="sourceRegion">The region whose writes are read (its hub is <c>azkv-&lt;source&gt;</c>).</param>
    /// <param name="destinationRegion">This region: the consumer group's name.</param>
    /// <param name="endpoint">The source's Event Hubs namespace.</param>
    /// <param name="blobTail">The blob tail of the source's WAL (fallback and bootstrap).</param>
    /// <param name="time">Clock.</param>
    public EventHubsTransport(string sourceRegion, string destinationRegion, EventHubsEndpoint endpoint, IReplicationTransport blobTail, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(blobTail);
        SourceRegion = sourceRegion;
        _consumerGroup = destinationRegion;
        _endpoint = endpoint;
        _blobTail = blobTail;
        _time = time;
    }

    /// <summary>
    /// Wires what the host creates after the transport: the source's change monitor, which wakes a
    /// partition idle on the blob tail (null: poll), and the logger.
    /// </summary>
    public void Attach(IReplicationWakeSource? blobWake, ILogger logger)
    {
        _blobWake = blobWake;
        _logger = logger;
    }

    /// <inheritdoc />
    public string SourceRegion { get; }

    /// <summary>The path a partition reads now: <c>eventhubs</c> or <c>blobtail</c>.</summary>
    public string TransportOf(int partition) => _partitions.TryGetValue(partition, out var s) && !s.OnBlob ? "eventhubs" : "blobtail";

    /// <inheritdoc />
    public async Task<ReplicationBatch> ReadAsync(int partition, ReplicationPosition? from, int maxRecords, ReplicationScope scope, CancellationToken cancellationToken)
    {
        var state = _partitions.GetOrAdd(partition, _ => new PartitionState());
        if (scope == ReplicationScope.AllOrigins)
        {
            var bootstrap = await _blobTail.ReadAsync(partition, from, maxRecords, scope, cancellationToken).ConfigureAwait(false);
            state.OnBlob = true;
            state.ReadNow = bootstrap.Records.Count == 0 && bootstrap.CatchUp is null; // at the end: to the hub next
            return bootstrap;
        }

        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (state.OnBlob || from?.HubSequence is null)
            {
                return await ReadBlobAsync(partition, state, from, maxRecords, cancellationToken).ConfigureAwait(false);
            }

            ReplicationBatch hubBatch;
            try
            {
                hubBatch = await ReadHubAsync(partition, state, from, maxRecords, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsHubFailure(ex))
            {
                await FallBackAsync(partition, state, "hub unavailable: " + ex.Message, retryLater: true).ConfigureAwait(false);
                hubBatch = new ReplicationBatch([], from, null);
            }

            // Fell back with nothing to show: read the blob tail now. An empty batch would tell the
            // consumer it is caught up, which it may not be.
            return state.OnBlob && hubBatch.Records.Count == 0
                ? await ReadBlobAsync(partition, state, hubBatch.Position, maxRecords, cancellationToken).ConfigureAwait(false)
                : hubBatch;
        }
        finally
        {
            state.Gate.Release();
        }
    }

    /// <summary>
    /// A round on the blob tail. Returning to the hub is safe with this order: first note the hub
    /// partition's last sequence number L, then read the blob tail; when it has nothing more, every
    /// record published at or before L was in the WAL before it was published, so it has been read:
    /// the hub is read after L.
    /// </summary>
    private async Task<ReplicationBatch> ReadBlobAsync(int partition, PartitionState state, ReplicationPosition? from, int maxRecords, CancellationToken cancellationToken)
    {
        state.OnBlob = true;
        long? hubLast = null;
        if (_time.GetUtcNow() >= state.HubRetryAt)
        {
            try
            {
                hubLast = (await GetHubPartitionPropertiesAsync(partition, cancellationToken).ConfigureAwait(false)).LastEnqueuedSequenceNumber;
            }
            catch (Exception ex) when (IsHubFailure(ex))
            {
                EventHubsLog.FallingBack(_logger, SourceRegion, partition, "hub unavailable: " + ex.Message);
                state.HubRetryAt = _time.GetUtcNow() + HubRetryDelay;
            }
        }

        var batch = await _blobTail.ReadAsync(partition, from, maxRecords, ReplicationScope.SourceOrigin, cancellationToken).ConfigureAwait(false);
        var caughtUp = batch.Records.Count == 0 && batch.CatchUp is null;
        if (!caughtUp || hubLast is null)
        {
            state.ReadNow = false;
            return batch with { Position = batch.Position is null ? null : batch.Position with { HubSequence = from?.HubSequence } };
        }

        state.OnBlob = false;
        state.NextHubCheck = _time.GetUtcNow() + HubCheckInterval;
        EventHubsLog.ReturnedToHub(_logger, SourceRegion, partition, batch.Position?.Lsn ?? 0);
        var position = batch.Position ?? new ReplicationPosition(ReplicationPosition.HubSegment, 0, from?.Lsn ?? 0);
        return batch with { Position = position with { HubSequence = hubLast } };
    }

    private static bool IsHubFailure(Exception ex) =>
        ex is EventHubsException or UnauthorizedAccessException or InvalidOperationException or TimeoutException or IOException or System.Net.Sockets.SocketException;

    private async Task<PartitionProperties> GetHubPartitionPropertiesAsync(int partition, CancellationToken cancellationToken)
    {
        var ids = await GetHubPartitionsAsync(cancellationToken).ConfigureAwait(false);
        await using var client = new EventHubConsumerClient(_consumerGroup, _connection!, new EventHubConsumerClientOptions { RetryOptions = EventHubsEndpoint.RetryOptions });
        return await client.GetPartitionPropertiesAsync(ids[partition % ids.Length], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public long VersionOf(int partition) => _blobWake?.VersionOf(partition) ?? 0;

    /// <inheritdoc />
    public Task<long> WaitAsync(int partition, long seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_partitions.TryGetValue(partition, out var state) && (!state.OnBlob || (state.ReadNow && _time.GetUtcNow() >= state.HubRetryAt)))
        {
            return Task.FromResult(seen); // a hub read waits for events itself; a fall-back reads the blob at once
        }

        return _blobWake is not null
            ? _blobWake.WaitAsync(partition, seen, timeout, cancellationToken)
            : DelayAsync(seen, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var state in _partitions.Values)
        {
            if (state.Receiver is { } receiver)
            {
                await receiver.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<long> DelayAsync(long seen, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
        return seen;
    }

    private async Task<ReplicationBatch> ReadHubAsync(int partition, PartitionState state, ReplicationPosition? from, int maxRecords, CancellationToken cancellationToken)
    {
        var applied = from?.Lsn ?? 0;
        var lastSequence = from?.HubSequence;
        if (state.Receiver is null || state.LastSequence != lastSequence)
        {
            if (state.Receiver is { } old)
            {
                await old.DisposeAsync().ConfigureAwait(false);
            }

            var ids = await GetHubPartitionsAsync(cancellationToken).ConfigureAwait(false);
            var start = EventPosition.FromSequenceNumber(lastSequence!.Value, isInclusive: false);
            state.Receiver = new PartitionReceiver(
                _consumerGroup, ids[partition % ids.Length], start, _connection!, new PartitionReceiverOptions { RetryOptions = EventHubsEndpoint.RetryOptions, PrefetchCount = 300 });
            state.LastSequence = lastSequence;
        }

        var events = (await state.Receiver.ReceiveBatchAsync(maxRecords, ReceiveWait, cancellationToken).ConfigureAwait(false)).ToList();
        if (events.Count == 0 && lastSequence is { } last && _time.GetUtcNow() >= state.NextHubCheck)
        {
            // Nothing new: make sure the hub did not lose what we have not read. Gaps between events
            // show in their LSNs, but events dropped at the end (retention with no newer event) or a
            // hub recreated empty (sequence numbers restarting at 0) show only in the partition's range.
            state.NextHubCheck = _time.GetUtcNow() + HubCheckInterval;
            var range = await GetHubPartitionPropertiesAsync(partition, cancellationToken).ConfigureAwait(false);
            var reason = range.BeginningSequenceNumber > last + 1 ? $"the hub dropped events {last + 1}..{range.BeginningSequenceNumber - 1} unread (retention)"
                : range.LastEnqueuedSequenceNumber < last ? $"the hub's last sequence number {range.LastEnqueuedSequenceNumber} is below ours, {last} (the hub was recreated)"
                : null;
            if (reason is not null)
            {
                await FallBackAsync(partition, state, reason, retryLater: false).ConfigureAwait(false);
                return new ReplicationBatch([], from, null);
            }
        }

        var records = new List<ReplicatedRecord>();
        var sequence = lastSequence;
        var tags = PartitionMetrics.Source(SourceRegion);
        foreach (var e in events)
        {
            PartitionMetrics.HubEvents.Add(1, tags);
            if (!e.Properties.TryGetValue(EventHubsLogSink.PartitionProperty, out var p) || Convert.ToInt32(p, System.Globalization.CultureInfo.InvariantCulture) != partition
                || !e.Properties.TryGetValue(EventHubsLogSink.LsnProperty, out var l))
            {
                sequence = e.SequenceNumber; // another kv partition sharing this hub partition
                continue;
            }

            var lsn = Convert.ToInt64(l, System.Globalization.CultureInfo.InvariantCulture);
            if (lsn <= applied)
            {
                sequence = e.SequenceNumber; // a repeat (publisher takeover) or already read from the blob tail
                continue;
            }

            var reason = lsn != applied + 1 ? $"gap: LSN {lsn} after {applied} (retention, a recreated hub)"
                : e.Properties.ContainsKey(EventHubsLogSink.PointerProperty) ? $"pointer event for LSN {lsn} (record over the event size)"
                : null;
            WalRecordView view = default;
            if (reason is null && (WalReader.TryReadNext(e.EventBody.ToMemory().Span, out view, out _) != WalReadStatus.Ok || (long)view.Lsn != lsn))
            {
                reason = $"event {e.SequenceNumber} does not hold a valid WAL record for LSN {lsn}";
            }

            if (reason is not null)
            {
                // Read what the hub cannot give from the blob WAL, then come back to this very event.
                await FallBackAsync(partition, state, reason, retryLater: false).ConfigureAwait(false);
                break;
            }

            if (view.IsFromRegion(SourceRegion))
            {
                var record = view.ToRecord();
                records.Add(new ReplicatedRecord(lsn, record.Key, record.Write, record.Writer));
            }

            applied = lsn;
            sequence = e.SequenceNumber;
        }

        if (state.Receiver is not null)
        {
            state.LastSequence = sequence;
        }

        var position = sequence == lastSequence && applied == (from?.Lsn ?? 0)
            ? from
            : new ReplicationPosition(ReplicationPosition.HubSegment, 0, applied, sequence);
        return new ReplicationBatch(records, position, null);
    }

    private async Task FallBackAsync(int partition, PartitionState state, string reason, bool retryLater)
    {
        EventHubsLog.FallingBack(_logger, SourceRegion, partition, reason);
        PartitionMetrics.TransportFallbacks.Add(1, new System.Diagnostics.TagList { { "source", SourceRegion }, { "reason", retryLater ? "unavailable" : "gap" } });
        state.OnBlob = true;
        state.ReadNow = !retryLater;
        if (retryLater)
        {
            state.HubRetryAt = _time.GetUtcNow() + HubRetryDelay;
        }

        if (state.Receiver is { } receiver)
        {
            state.Receiver = null;
            await receiver.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<string[]> GetHubPartitionsAsync(CancellationToken cancellationToken)
    {
        if (_hubPartitions is { } known)
        {
            return known;
        }

        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _connection ??= _endpoint.Connect(EventHubsEndpoint.HubName(SourceRegion));
            if (_hubPartitions is null)
            {
                await using var client = new EventHubConsumerClient(_consumerGroup, _connection, new EventHubConsumerClientOptions { RetryOptions = EventHubsEndpoint.RetryOptions });
                _hubPartitions = await client.GetPartitionIdsAsync(cancellationToken).ConfigureAwait(false);
            }

            return _hubPartitions;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private sealed class PartitionState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public PartitionReceiver? Receiver { get; set; }

        public long? LastSequence { get; set; }

        public volatile bool OnBlob;

        public DateTimeOffset HubRetryAt { get; set; }

        public DateTimeOffset NextHubCheck { get; set; }

        /// <summary>On the blob tail, read again at once (a fall-back, or caught up and about to return to the hub).</summary>
        public bool ReadNow { get; set; }
    }

    private static partial class EventHubsLog
    {
        [LoggerMessage(4020, LogLevel.Warning, "Replication from {Source}, partition {Partition}: reading the blob tail instead of the event hub: {Reason}")]
        public static partial void FallingBack(ILogger logger, string source, int partition, string reason);

        [LoggerMessage(4021, LogLevel.Information, "Replication from {Source}, partition {Partition}: caught up on the blob tail at LSN {Lsn}; back to the event hub.")]
        public static partial void ReturnedToHub(ILogger logger, string source, int partition, long lsn);
    }
}
