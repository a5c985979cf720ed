using System.Collections.Concurrent;
using AzKv.Cluster;
using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Testing;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Cluster;

/// <summary>
/// The node supervisor on the in-memory store and the manual clock: the break-or-wait policy with
/// lease times measured on the fake clock, and a loop that outlives a failing iteration.
/// </summary>
public sealed class NodeSupervisorTests : IAsyncLifetime
{
    private const int Partition = 0;
    private const string Region = "r1";

    private readonly ManualTimeProvider _clock = new();
    private readonly InMemoryBlobStore _store;
    private readonly List<NodeSupervisor> _supervisors = [];
    private readonly List<PartitionOwner> _owners = [];
    private readonly ConcurrentQueue<(BlobOperation Operation, string? Blob, DateTimeOffset At)> _requests = new();
    private readonly RecordingLogger _log = new();

    private readonly PartitionOptions _options = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(15),
        LeaseRenewInterval = TimeSpan.FromSeconds(5),
        LeaseSafetyMargin = TimeSpan.FromSeconds(2),
        TransientRetryBudget = TimeSpan.FromSeconds(5),
    };

    public NodeSupervisorTests()
    {
        _store = new InMemoryBlobStore("azkv", _clock);
    }

    public async Task InitializeAsync() => await _store.CreateContainerIfNotExistsAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        _store.Faults.Clear();
        foreach (var supervisor in _supervisors)
        {
            await supervisor.DisposeAsync();
        }

        foreach (var owner in _owners)
        {
            await owner.DisposeAsync();
        }
    }

    [Fact]
    public async Task StartAsync_WhenHolderLooksDeadButKeepsRenewing_BreaksOnlyAfterALeaseOfWaitingAndServesAfterTheLeaseRunsOut()
    {
        // node-a owns the partition, then "hangs" holding the lease: the test renews it (it is not a
        // member, so node-b's ring gives the partition to node-b and node-a looks dead).
        var segment = await OpenAndAbandonAsync("node-a");
        await _store.BreakLeaseAsync(segment, TimeSpan.Zero, CancellationToken.None);
        var stuckHolder = Guid.NewGuid().ToString();
        await _store.AcquireLeaseAsync(segment, _options.LeaseDuration, stuckHolder, default, CancellationToken.None);
        var lastRenew = _clock.GetUtcNow();
        RecordRequests();

        var supervisor = await StartSupervisorAsync("node-b");
        var served = await RunUntilAsync(
            () => supervisor.ServingOwner(Partition) is not null,
            TimeSpan.FromSeconds(90),
            async () =>
            {
                // The holder renews before every tick, until a break refuses it.
                try
                {
                    await _store.RenewLeaseAsync(segment, stuckHolder, CancellationToken.None);
                    lastRenew = _clock.GetUtcNow();
                }
                catch (BlobStorageException)
                {
                    // Broken: the holder has lost it.
                }
            });

        Assert.True(served, "node-b never took the partition over");
        var firstAttempt = FirstAt(BlobOperation.AcquireLease, segment);
        var firstBreak = FirstAt(BlobOperation.BreakLease, segment);
        Assert.NotNull(firstAttempt);
        Assert.NotNull(firstBreak);
        Assert.True(
            firstBreak - firstAttempt > _options.LeaseDuration,
            $"broke after {(firstBreak - firstAttempt)!.Value.TotalSeconds:0.00} s of waiting; the policy waits a lease ({_options.LeaseDuration.TotalSeconds} s) first");
        var takeover = FirstAt(BlobOperation.PutBlockBlob, StorageLayout.Manifest(Partition), after: firstBreak);
        Assert.NotNull(takeover);
        Assert.True(
            takeover >= lastRenew + _options.LeaseDuration,
            $"the manifest named node-b at {takeover:O}, before the holder's lease (renewed {lastRenew:O}) ran out");
        var manifest = await ReadManifestAsync();
        Assert.Equal("node-b", manifest.Owner?.NodeId);
        Assert.Equal(2, manifest.Epoch);
    }

    [Fact]
    public async Task StartAsync_WhenOwnPreviousIncarnationHoldsTheLease_BreaksAtOnceButServesOnlyAfterItsLeaseExpires()
    {
        var leasedAt = _clock.GetUtcNow();
        var segment = await OpenAndAbandonAsync("node-a");
        Assert.Equal(leasedAt, _clock.GetUtcNow());
        RecordRequests();

        // node-a restarts: the manifest names it, so the holder is certainly dead and its lease is broken.
        var supervisor = await StartSupervisorAsync("node-a");
        var notBefore = await RunUntilAsync(
            () => supervisor.ServingOwner(Partition) is not null, _options.LeaseDuration - TimeSpan.FromSeconds(1));
        Assert.False(notBefore, "served while the previous incarnation's lease was still running");
        Assert.NotNull(FirstAt(BlobOperation.BreakLease, segment));

        var served = await RunUntilAsync(() => supervisor.ServingOwner(Partition) is not null, TimeSpan.FromSeconds(30));

        Assert.True(served, "the restarted node never took its partition back");
        var takeover = FirstAt(BlobOperation.PutBlockBlob, StorageLayout.Manifest(Partition));
        Assert.NotNull(takeover);
        Assert.True(takeover >= leasedAt + _options.LeaseDuration, $"took over at {takeover:O}, before the lease taken at {leasedAt:O} expired");
        Assert.Equal(2, (await ReadManifestAsync()).Epoch);
    }

    [Fact]
    public async Task StartAsync_WhenHolderStoppedRenewing_WaitsForItsLeaseToExpireWithoutBreaking()
    {
        var leasedAt = _clock.GetUtcNow();
        await OpenAndAbandonAsync("node-a");
        RecordRequests();

        var supervisor = await StartSupervisorAsync("node-b");
        var served = await RunUntilAsync(() => supervisor.ServingOwner(Partition) is not null, TimeSpan.FromSeconds(60));

        Assert.True(served, "node-b never took the partition over");
        Assert.Null(FirstAt(BlobOperation.BreakLease, blob: null));
        var takeover = FirstAt(BlobOperation.PutBlockBlob, StorageLayout.Manifest(Partition));
        Assert.NotNull(takeover);
        Assert.True(takeover >= leasedAt + _options.LeaseDuration, $"took over at {takeover:O}, before the lease taken at {leasedAt:O} expired");
        Assert.Equal("node-b", (await ReadManifestAsync()).Owner?.NodeId);
    }

    [Fact]
    public async Task StartAsync_WhenReadingMembershipFailsOnJoin_LogsRetriesAndServes()
    {
        _store.Faults.FailNext(BlobOperation.List, 2, "members/");

        var supervisor = await StartSupervisorAsync("node-a");
        var served = await RunUntilAsync(() => supervisor.IsReady, TimeSpan.FromSeconds(60));

        Assert.True(served, "the supervisor stopped after the membership read failed");
        Assert.True(_store.Faults.GetCallCount(BlobOperation.List, "members/") >= 3);
        Assert.Equal(2, _log.Count(NodeSupervisorLog.LoopFailedEventId));
        Assert.Equal("node-a", (await ReadManifestAsync()).Owner?.NodeId);
    }

    [Fact]
    public async Task StartAsync_WhenAnIterationThrowsUnexpectedly_LogsAndCarriesOn()
    {
        // Once joined, the first read of the partition's manifest throws something nobody expects.
        var thrown = 0;
        var manifestBlob = StorageLayout.Manifest(Partition);
        _store.Faults.Callback = context =>
        {
            if (context.Operation == BlobOperation.Download && context.BlobName == manifestBlob && Interlocked.Exchange(ref thrown, 1) == 0)
            {
                throw new InvalidOperationException("injected fault");
            }

            return BlobFaultAction.None;
        };

        var supervisor = await StartSupervisorAsync("node-a");
        var served = await RunUntilAsync(() => supervisor.IsReady, TimeSpan.FromSeconds(60));

        Assert.Equal(1, Volatile.Read(ref thrown));
        Assert.True(served, "the supervisor stopped after an iteration threw");
        Assert.Equal(1, _log.Count(NodeSupervisorLog.LoopFailedEventId));
    }

    [Fact]
    public async Task StopAsync_WhenServing_HandsOverAndLeavesMembership()
    {
        var supervisor = await StartSupervisorAsync("node-a");
        Assert.True(await RunUntilAsync(() => supervisor.IsReady, TimeSpan.FromSeconds(60)));

        await supervisor.StopAsync(CancellationToken.None);

        var manifest = await ReadManifestAsync();
        Assert.Null(manifest.Owner);
        var members = await _store.ListAsync("members/", null, null, CancellationToken.None);
        Assert.Empty(members.Items);
        Assert.Equal(LeaseState.Available, (await _store.GetPropertiesAsync(manifest.Active!.Name, default, CancellationToken.None)).LeaseState);
    }

    private async Task<NodeSupervisor> StartSupervisorAsync(string nodeId)
    {
        var supervisor = new NodeSupervisor(
            _store,
            new NodeIdentity(nodeId, Region, "http://" + nodeId, ["owner"], ConfiguredPartitionCount: 1),
            _options,
            new MembershipOptions(),
            ReplicationSetup.None,
            _clock,
            _log);
        _supervisors.Add(supervisor);
        await supervisor.StartAsync(CancellationToken.None);
        return supervisor;
    }

    /// <summary>Opens the partition as <paramref name="nodeId"/>, then stops that owner as a crash would (lease kept); returns the active segment.</summary>
    private async Task<string> OpenAndAbandonAsync(string nodeId)
    {
        // cluster.json first, as the node's supervisor would have written it.
        await ClusterDocument.LoadOrCreateAsync(_store, Region, 1, null, _clock, CancellationToken.None);
        var result = await PartitionOwner.OpenAsync(
            Partition, _store, new OwnerIdentity(nodeId, Region, "http://" + nodeId), _options, TakeoverMode.WaitForExpiry, _clock,
            new HybridLogicalClock(_clock), NullLogger.Instance, CancellationToken.None);
        Assert.Equal(OpenStatus.Opened, result.Status);
        var owner = result.Owner!;
        _owners.Add(owner);
        await owner.AbandonAsync();
        return owner.Manifest.Active!.Name;
    }

    private void RecordRequests() =>
        _store.Faults.Callback = context =>
        {
            _requests.Enqueue((context.Operation, context.BlobName, _clock.GetUtcNow()));
            return BlobFaultAction.None;
        };

    private DateTimeOffset? FirstAt(BlobOperation operation, string? blob, DateTimeOffset? after = null) =>
        _requests.Where(r => r.Operation == operation && (blob is null || r.Blob == blob) && (after is null || r.At >= after))
            .Select(r => (DateTimeOffset?)r.At)
            .FirstOrDefault();

    private async Task<PartitionManifest> ReadManifestAsync() =>
        (await new ManifestStore(_store).ReadAsync(Partition, CancellationToken.None))!.Manifest;

    /// <summary>
    /// Moves the clock 250 ms at a time (the supervisor's retry interval) until <paramref name="condition"/>
    /// holds or <paramref name="limit"/> of fake time has passed; before each tick, lets the thread pool
    /// run what the last one released, and runs <paramref name="beforeTick"/>.
    /// </summary>
    private async Task<bool> RunUntilAsync(Func<bool> condition, TimeSpan limit, Func<Task>? beforeTick = null)
    {
        var end = _clock.GetUtcNow() + limit;
        while (true)
        {
            for (var i = 0; i < 20 && !condition(); i++)
            {
                await Task.Delay(1);
            }

            if (condition())
            {
                return true;
            }

            if (_clock.GetUtcNow() >= end)
            {
                return false;
            }

            if (beforeTick is not null)
            {
                await beforeTick();
            }

            _clock.Advance(TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>Counts log events by id.</summary>
    private sealed class RecordingLogger : ILogger<NodeSupervisor>
    {
        private readonly ConcurrentDictionary<int, int> _counts = new();

        public int Count(int eventId) => _counts.GetValueOrDefault(eventId);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _counts.AddOrUpdate(eventId.Id, 1, (_, n) => n + 1);
    }
}
