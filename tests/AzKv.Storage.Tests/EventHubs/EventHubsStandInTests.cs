using System.Text;
using AzKv.Local.EventHubs;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using AzKv.Testing;

namespace AzKv.Storage.Tests.EventHubs;

/// <summary>The local Event Hubs stand-in, driven by the real Azure.Messaging.EventHubs SDK over loopback AMQP.</summary>
public sealed class EventHubsStandInTests : IAsyncLifetime
{
    private const string Hub = "azkv-test";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
    private EventHubsStandIn _standIn = null!;

    public Task InitializeAsync()
    {
        _standIn = EventHubsStandIn.Start(new EventHubsStandInOptions { TimeProvider = _clock, Retention = TimeSpan.FromHours(1) });
        _standIn.CreateHub(Hub, partitionCount: 4, consumerGroups: ["west"]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _standIn.DisposeAsync();

    [Fact]
    public async Task GetEventHubProperties_WhenHubExists_ReturnsItsPartitions()
    {
        await using var producer = new EventHubProducerClient(_standIn.GetConnectionString(Hub));

        var properties = await producer.GetEventHubPropertiesAsync();

        Assert.Equal(Hub, properties.Name);
        Assert.Equal(["0", "1", "2", "3"], properties.PartitionIds);
    }

    [Fact]
    public async Task SendBatch_WhenReadFromSequenceNumber_ReturnsEventsInOrderWithPropertiesFromZero()
    {
        await using (var producer = new EventHubProducerClient(_standIn.GetConnectionString(Hub)))
        {
            using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = "2" });
            for (var i = 0; i < 5; i++)
            {
                var e = new EventData(Encoding.UTF8.GetBytes("value-" + i));
                e.Properties["lsn"] = (long)(100 + i);
                e.Properties["origin"] = "east";
                Assert.True(batch.TryAdd(e));
            }

            await producer.SendAsync(batch);
        }

        var partition = await GetPartitionPropertiesAsync("2");
        Assert.Equal(0, partition.BeginningSequenceNumber);
        Assert.Equal(4, partition.LastEnqueuedSequenceNumber);
        Assert.False(partition.IsEmpty);

        var events = await ReadAsync("2", EventPosition.FromSequenceNumber(1, isInclusive: true), count: 4, consumerGroup: "west");

        Assert.Equal([1L, 2L, 3L, 4L], events.Select(e => e.SequenceNumber));
        Assert.Equal(["value-1", "value-2", "value-3", "value-4"], events.Select(e => e.EventBody.ToString()));
        Assert.Equal([101L, 102L, 103L, 104L], events.Select(e => (long)e.Properties["lsn"]));
        Assert.All(events, e => Assert.Equal("east", e.Properties["origin"]));
        Assert.All(events, e => Assert.Equal(_clock.GetUtcNow(), e.EnqueuedTime));
    }

    [Fact]
    public async Task Read_WhenFromOffsetOfAnEvent_ReturnsTheEventsAfterIt()
    {
        await SendAsync("0", "a", "b", "c");
        var all = await ReadAsync("0", EventPosition.Earliest, count: 3);

        var after = await ReadAsync("0", EventPosition.FromOffset(all[0].OffsetString, isInclusive: false), count: 2);

        Assert.Equal(["b", "c"], after.Select(e => e.EventBody.ToString()));
    }

    [Fact]
    public async Task Read_WhenRetentionTruncatedThePartition_StartsAtTheFirstRetainedEvent()
    {
        await SendAsync("1", "old-0", "old-1", "old-2");
        _clock.Advance(TimeSpan.FromHours(2));
        await SendAsync("1", "new-3");

        var events = await ReadAsync("1", EventPosition.FromSequenceNumber(0, isInclusive: true), count: 1);
        var partition = await GetPartitionPropertiesAsync("1");

        Assert.Equal(3, events[0].SequenceNumber);
        Assert.Equal("new-3", events[0].EventBody.ToString());
        Assert.Equal(3, partition.BeginningSequenceNumber);
    }

    [Fact]
    public async Task Truncate_WhenCalled_ReadFromTheStartSkipsTheRemovedEvents()
    {
        await SendAsync("3", "e0", "e1", "e2", "e3");

        _standIn.Truncate(Hub, "3", beforeSequenceNumber: 2);
        var events = await ReadAsync("3", EventPosition.Earliest, count: 2);

        Assert.Equal([2L, 3L], events.Select(e => e.SequenceNumber));
    }

    [Fact]
    public async Task Receive_WhenAnOwnerLevelReceiverAttaches_TheOtherReceiverIsDisconnected()
    {
        await SendAsync("0", "x");
        await using var first = new PartitionReceiver("west", "0", EventPosition.Earliest, _standIn.GetConnectionString(Hub), new PartitionReceiverOptions { OwnerLevel = 1 });
        var firstBatch = await first.ReceiveBatchAsync(10, TimeSpan.FromSeconds(5));
        Assert.Single(firstBatch);

        await using var second = new PartitionReceiver("west", "0", EventPosition.Earliest, _standIn.GetConnectionString(Hub), new PartitionReceiverOptions { OwnerLevel = 2 });
        var secondBatch = await second.ReceiveBatchAsync(10, TimeSpan.FromSeconds(5));
        Assert.Single(secondBatch);

        var error = await Assert.ThrowsAsync<EventHubsException>(() => first.ReceiveBatchAsync(10, TimeSpan.FromSeconds(5)));
        Assert.Equal(EventHubsException.FailureReason.ConsumerDisconnected, error.Reason);
    }

    [Fact]
    public async Task Receive_WhenConnectionsAreDropped_TheSdkReconnectsAndContinues()
    {
        await SendAsync("2", "before");
        await using var receiver = new PartitionReceiver("$Default", "2", EventPosition.Earliest, _standIn.GetConnectionString(Hub));
        var first = await receiver.ReceiveBatchAsync(10, TimeSpan.FromSeconds(5));
        Assert.Equal("before", Assert.Single(first).EventBody.ToString());

        Assert.True(_standIn.DropConnections() > 0);
        await SendAsync("2", "after");
        var events = new List<EventData>();
        using var deadline = new CancellationTokenSource(Deadline);
        while (events.Count == 0)
        {
            try
            {
                events.AddRange(await receiver.ReceiveBatchAsync(10, TimeSpan.FromSeconds(1), deadline.Token));
            }
            catch (EventHubsException ex) when (ex.IsTransient)
            {
            }
        }

        Assert.Contains(events, e => e.EventBody.ToString() == "after");
    }

    [Fact]
    public async Task Open_WhenConsumerGroupIsNotConfigured_FailsWithResourceNotFound()
    {
        await using var receiver = new PartitionReceiver("nope", "0", EventPosition.Earliest, _standIn.GetConnectionString(Hub));

        var error = await Assert.ThrowsAsync<EventHubsException>(() => receiver.ReceiveBatchAsync(1, TimeSpan.FromSeconds(2)));

        Assert.Equal(EventHubsException.FailureReason.ResourceNotFound, error.Reason);
    }

    private async Task SendAsync(string partitionId, params string[] bodies)
    {
        await using var producer = new EventHubProducerClient(_standIn.GetConnectionString(Hub));
        using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = partitionId });
        foreach (var body in bodies)
        {
            Assert.True(batch.TryAdd(new EventData(Encoding.UTF8.GetBytes(body))));
        }

        await producer.SendAsync(batch);
    }

    private async Task<PartitionProperties> GetPartitionPropertiesAsync(string partitionId)
    {
        await using var consumer = new EventHubConsumerClient(EventHubConsumerClient.DefaultConsumerGroupName, _standIn.GetConnectionString(Hub));
        return await consumer.GetPartitionPropertiesAsync(partitionId);
    }

    private async Task<List<EventData>> ReadAsync(string partitionId, EventPosition position, int count, string consumerGroup = "$Default")
    {
        await using var consumer = new EventHubConsumerClient(consumerGroup, _standIn.GetConnectionString(Hub));
        using var deadline = new CancellationTokenSource(Deadline);
        var events = new List<EventData>();
        await foreach (var e in consumer.ReadEventsFromPartitionAsync(partitionId, position, deadline.Token))
        {
            events.Add(e.Data);
            if (events.Count == count)
            {
                break;
            }
        }

        return events;
    }
}
