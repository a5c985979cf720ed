using AzKv.Replication;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;

namespace AzKv.Storage.AzureBlob.EventHubs;

/// <summary>
/// Publishes a region's committed records to its event hub (<c>azkv-&lt;region&gt;</c>): event hub partition
/// = kv partition mod the hub's partition count; body = the WAL record bytes; application properties
/// <c>azkv-partition</c>, <c>azkv-lsn</c>, <c>azkv-origin</c>, <c>azkv-hlc</c>. Records go in batches
/// (<c>CreateBatchAsync</c>/<c>TryAdd</c>) in LSN order; a record too large for one event (1 MB on Standard)
/// goes as a pointer event (<c>azkv-pointer</c> = true, empty body) that readers resolve from the blob WAL.
/// </summary>
public sealed class EventHubsLogSink : IReplicationLogSink, IAsyncDisposable
{
    /// <summary>Application property: the kv partition.</summary>
    public const string PartitionProperty = "azkv-partition";

    /// <summary>Application property: the record's LSN in the publishing region's partition log.</summary>
    public const string LsnProperty = "azkv-lsn";

    /// <summary>Application property: the region that made the write.</summary>
    public const string OriginProperty = "azkv-origin";

    /// <summary>Application property: the write's HLC timestamp.</summary>
    public const string HlcProperty = "azkv-hlc";

    /// <summary>Application property: true on a pointer event (the record is read from the source's blob WAL).</summary>
    public const string PointerProperty = "azkv-pointer";

    private readonly EventHubProducerClient _producer;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string[]? _partitionIds;

    /// <summary>Creates a sink for <paramref name="region"/>'s hub on <paramref name="endpoint"/>.</summary>
    public EventHubsLogSink(EventHubsEndpoint endpoint, string region)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _producer = new EventHubProducerClient(endpoint.Connect(EventHubsEndpoint.HubName(region)), new EventHubProducerClientOptions { RetryOptions = EventHubsEndpoint.RetryOptions });
    }

    /// <inheritdoc />
    public async Task PublishAsync(int partition, IReadOnlyList<PublishedRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        var ids = _partitionIds ?? await LoadPartitionIdsAsync(cancellationToken).ConfigureAwait(false);
        var options = new CreateBatchOptions { PartitionId = ids[partition % ids.Length] };
        var batch = await _producer.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var record in records)
            {
                var e = ToEvent(record, pointer: false);
                if (batch.TryAdd(e))
                {
                    continue;
                }

                if (batch.Count > 0)
                {
                    await _producer.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                    batch.Dispose();
                    batch = await _producer.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
                    if (batch.TryAdd(e))
                    {
                        continue;
                    }
                }

                // Alone it is still too large for one event: a pointer the readers resolve from the blob WAL.
                if (!batch.TryAdd(ToEvent(record, pointer: true)))
                {
                    throw new InvalidOperationException($"Partition {partition}, LSN {record.Lsn}: even a pointer event does not fit in an event hub batch.");
                }
            }

            if (batch.Count > 0)
            {
                await _producer.SendAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _producer.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    internal static EventData ToEvent(PublishedRecord record, bool pointer)
    {
        var e = new EventData(pointer ? BinaryData.Empty : new BinaryData(record.Encoded));
        e.Properties[PartitionProperty] = record.Partition;
        e.Properties[LsnProperty] = record.Lsn;
        e.Properties[OriginProperty] = record.Write.Dot.Region;
        e.Properties[HlcProperty] = record.Write.Version.Hlc;
        if (pointer)
        {
            e.Properties[PointerProperty] = true;
        }

        return e;
    }

    private async Task<string[]> LoadPartitionIdsAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _partitionIds ??= await _producer.GetPartitionIdsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
