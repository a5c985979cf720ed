using System.Buffers;
using AzKv.Local.EventHubs;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage.AzureBlob.EventHubs;
using AzKv.Versioning;
using AzKv.Wal;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;

namespace AzKv.Storage.Tests.EventHubs;

/// <summary>
/// The publisher's Event Hubs sink: on the local stand-in always; against a real namespace when
/// <c>AZKV_LIVE_EVENTHUBS_CONNECTION_STRING</c> holds a namespace connection string whose namespace has
/// a hub <c>azkv-live</c> (any partition count, consumer group <c>$Default</c>); skipped otherwise.
/// </summary>
public sealed class EventHubsLogSinkTests : IAsyncLifetime
{
    /// <summary>The opt-in live test's setting (docs/replication.md).</summary>
    public const string LiveVariable = "AZKV_LIVE_EVENTHUBS_CONNECTION_STRING";

    private EventHubsStandIn _standIn = null!;

    public Task InitializeAsync()
    {
        _standIn = EventHubsStandIn.Start();
        _standIn.CreateHub(EventHubsEndpoint.HubName("live"), partitionCount: 4);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _standIn.DisposeAsync();

    [Fact]
    public async Task Publish_WhenOneRecordIsOverTheEventSize_SendsItAsAPointerAndTheOthersWithTheirWalBytes()
    {
        var records = new[] { Record(5, 9, "a", 10), Record(5, 10, "big", 1_100_000), Record(5, 11, "b", 10) };

        var events = await PublishAndReadAsync(_standIn.GetConnectionString(), records);

        Assert.Equal([9L, 10L, 11L], events.Select(e => (long)e.Properties[EventHubsLogSink.LsnProperty]));
        Assert.All(events, e => Assert.Equal(5, (int)e.Properties[EventHubsLogSink.PartitionProperty]));
        Assert.False(events[0].Properties.ContainsKey(EventHubsLogSink.PointerProperty));
        Assert.True((bool)events[1].Properties[EventHubsLogSink.PointerProperty]);
        Assert.Equal(0, events[1].EventBody.ToMemory().Length);
        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(events[2].EventBody.ToMemory().Span, out var view, out _));
        Assert.Equal(11UL, view.Lsn);
        Assert.Equal("b", view.ToRecord().Key);
    }

    [LiveEventHubsFact]
    public async Task Publish_WhenAgainstARealNamespace_EventsCarryTheWalRecordAndProperties()
    {
        var records = new[] { Record(3, 1, "live/a", 100), Record(3, 2, "live/b", 100) };

        var events = await PublishAndReadAsync(Environment.GetEnvironmentVariable(LiveVariable)!, records);

        Assert.Equal([1L, 2L], events.Select(e => (long)e.Properties[EventHubsLogSink.LsnProperty]));
        Assert.All(events, e => Assert.Equal("east", (string)e.Properties[EventHubsLogSink.OriginProperty]));
        Assert.Equal(WalReadStatus.Ok, WalReader.TryReadNext(events[1].EventBody.ToMemory().Span, out var view, out _));
        Assert.Equal("live/b", view.ToRecord().Key);
    }

    private static async Task<List<EventData>> PublishAndReadAsync(string connectionString, PublishedRecord[] records)
    {
        var endpoint = EventHubsEndpoint.FromConnectionString(connectionString);
        var hub = EventHubsEndpoint.HubName("live");
        await using var connection = endpoint.Connect(hub);
        await using var consumer = new EventHubConsumerClient(EventHubConsumerClient.DefaultConsumerGroupName, endpoint.Connect(hub));
        var ids = await consumer.GetPartitionIdsAsync();
        var partitionId = ids[records[0].Partition % ids.Length];
        var before = await consumer.GetPartitionPropertiesAsync(partitionId);

        await using (var sink = new EventHubsLogSink(endpoint, "live"))
        {
            await sink.PublishAsync(records[0].Partition, records, CancellationToken.None);
        }

        await using var receiver = new PartitionReceiver(
            EventHubConsumerClient.DefaultConsumerGroupName, partitionId, EventPosition.FromSequenceNumber(before.LastEnqueuedSequenceNumber, isInclusive: false), connection);
        var events = new List<EventData>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (events.Count < records.Length)
        {
            events.AddRange(await receiver.ReceiveBatchAsync(records.Length, TimeSpan.FromSeconds(2), deadline.Token));
        }

        return events;
    }

    private static PublishedRecord Record(int partition, long lsn, string key, int valueBytes)
    {
        var write = new CausalWrite(
            VersionVector.Create(("east", (ulong)lsn - 1)),
            VersionedValue.CreatePut(new Dot("east", (ulong)lsn), 117_000_000_000_000_000 + lsn, "text/plain", new byte[valueBytes]));
        var buffer = new ArrayBufferWriter<byte>();
        WalCodec.Encode(buffer, lsn, key, write);
        return new PublishedRecord(partition, lsn, key, write, buffer.WrittenMemory.ToArray());
    }

    /// <summary>A fact that runs only when <see cref="LiveVariable"/> is set (never in CI).</summary>
    private sealed class LiveEventHubsFactAttribute : FactAttribute
    {
        public LiveEventHubsFactAttribute()
        {
            if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(LiveVariable)))
            {
                Skip = $"Set {LiveVariable} to a namespace connection string (with a hub 'azkv-live') to run against a real Event Hubs namespace.";
            }
        }
    }
}
