using System.Collections.Immutable;
using System.Text.Json;
using AzKv.Partitions;
using AzKv.Storage;
using Microsoft.Extensions.Logging;

namespace AzKv.Cluster;

/// <summary>Timing of membership heartbeats.</summary>
public sealed class MembershipOptions
{
    /// <summary>How often a node rewrites its record and reads the others'. 2 s: failure detection in seconds, a few storage calls per node per beat.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A node whose record has not changed for this many intervals (on the observer's clock) is dead. 3: one slow beat is not a death.</summary>
    public int MissedBeatsBeforeDead { get; set; } = 3;
}

/// <summary>The live members as one node last saw them. Immutable.</summary>
/// <param name="Members">Live members (this node included), ordinal by node id.</param>
/// <param name="Version">Increases whenever the set of live members or their endpoints change.</param>
internal sealed record MembershipView(ImmutableArray<MemberRecord> Members, long Version)
{
    /// <summary>Ids of the live owner nodes.</summary>
    public IEnumerable<string> OwnerIds => Members.Where(m => m.IsOwner).Select(m => m.NodeId);

    /// <summary>The live member with this id, or null.</summary>
    public MemberRecord? Find(string nodeId) => Members.FirstOrDefault(m => string.Equals(m.NodeId, nodeId, StringComparison.Ordinal));
}

/// <summary>
/// Membership in blob storage (<c>members/{nodeId}.json</c>): this node rewrites its record every
/// beat with If-Match on its own ETag, and lists the others. A member is alive while its record's
/// ETag keeps changing, judged on this node's monotonic clock, so wall-clock skew between nodes
/// does not matter. Leaving deletes the record.
/// </summary>
internal sealed partial class Membership : IAsyncDisposable
{
    private readonly IBlobStore _store;
    private readonly MembershipOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Observed> _observed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private MemberRecord _self;
    private string? _etag;
    private MembershipView _view;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    public Membership(IBlobStore store, MemberRecord self, MembershipOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _self = self;
        _options = options;
        _time = time;
        _logger = logger;
        _view = new MembershipView([self], 0);
    }

    /// <summary>The current view.</summary>
    public MembershipView View => Volatile.Read(ref _view);

    /// <summary>Completes at the next change of the view.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Writes this node's record, reads the others, and starts beating.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await BeatAsync(cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);

        // Nodes starting at the same moment may not have written their records yet: look once more
        // after a beat before acting, or this node could briefly see itself alone and claim everything.
        await Task.Delay(_options.HeartbeatInterval + TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
        await BeatAsync(cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops beating and deletes this node's record, so the others see it leave at once.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        try
        {
            await _store.DeleteAsync(StorageLayout.Member(_self.NodeId), _etag is null ? default : BlobConditions.IfMatchETag(_etag), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound || ex.IsPreconditionFailed || ex.IsTransient)
        {
            // Gone already, rewritten by a newer incarnation, or unreachable: it will look dead soon.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.HeartbeatInterval, _time, cancellationToken).ConfigureAwait(false);
                await BeatAsync(cancellationToken).ConfigureAwait(false);
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (BlobStorageException ex)
            {
                MembershipLog.BeatFailed(_logger, ex.Message);
            }
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        _self = _self with { Beat = _self.Beat + 1, LastBeat = _time.GetUtcNow() };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(_self, MemberJsonContext.Default.MemberRecord);
        var name = StorageLayout.Member(_self.NodeId);
        var conditions = _etag is null ? BlobConditions.IfNotExists : BlobConditions.IfMatchETag(_etag);
        try
        {
            _etag = (await _store.PutBlockBlobAsync(name, bytes, new BlobWriteOptions { ContentType = "application/json", Conditions = conditions }, cancellationToken)
                .ConfigureAwait(false)).ETag;
        }
        catch (BlobStorageException ex) when (ex.IsPreconditionFailed)
        {
            // A record of a previous incarnation with our id, or a second process using our id.
            var current = await _store.GetPropertiesAsync(name, default, cancellationToken).ConfigureAwait(false);
            if (_etag is not null)
            {
                MembershipLog.RecordOverwritten(_logger, _self.NodeId);
            }

            _etag = (await _store.PutBlockBlobAsync(name, bytes, new BlobWriteOptions { ContentType = "application/json", Conditions = BlobConditions.IfMatchETag(current.ETag) }, cancellationToken)
                .ConfigureAwait(false)).ETag;
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var deadAfter = _options.HeartbeatInterval * _options.MissedBeatsBeforeDead;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await _store.ListAsync("members/", token, null, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                seen.Add(item.Name);
                if (!_observed.TryGetValue(item.Name, out var observed) || observed.ETag != item.ETag)
                {
                    var record = await TryReadAsync(item.Name, cancellationToken).ConfigureAwait(false);
                    if (record is not null)
                    {
                        // A record seen for the first time counts from now: it must keep changing to stay alive.
                        _observed[item.Name] = new Observed(item.ETag, now, record, observed is null);
                    }
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        foreach (var gone in _observed.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _observed.Remove(gone);
        }

        // Seen changing recently on our clock → alive. Seen once so far → alive if its own last beat is
        // recent (a wall-clock comparison, used only for this first look: skew between nodes is far
        // below the death threshold). Without the second rule a starting node would see itself alone.
        var wallNow = _time.GetUtcNow();
        var alive = _observed.Values
            .Where(o => o.Record.NodeId == _self.NodeId
                || (o.FirstSight
                    ? (wallNow - o.Record.LastBeat).Duration() < deadAfter
                    : _time.GetElapsedTime(o.ChangedAt, now) < deadAfter))
            .Select(o => o.Record.NodeId == _self.NodeId ? _self : o.Record)
            .Append(_self)
            .DistinctBy(m => m.NodeId)
            .OrderBy(m => m.NodeId, StringComparer.Ordinal)
            .ToImmutableArray();
        Publish(alive);
    }

    private void Publish(ImmutableArray<MemberRecord> alive)
    {
        var current = Volatile.Read(ref _view);
        if (current.Members.Length == alive.Length
            && current.Members.Zip(alive).All(p => p.First.NodeId == p.Second.NodeId && p.First.Endpoint == p.Second.Endpoint && p.First.IsOwner == p.Second.IsOwner))
        {
            return;
        }

        Volatile.Write(ref _view, new MembershipView(alive, current.Version + 1));
        MembershipLog.ViewChanged(_logger, string.Join(", ", alive.Select(m => m.NodeId)));
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task<MemberRecord?> TryReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var download = await _store.DownloadAsync(name, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize(download.Content.Span, MemberJsonContext.Default.MemberRecord);
        }
        catch (BlobStorageException ex) when (ex.IsNotFound)
        {
            return null;
        }
        catch (JsonException ex)
        {
            MembershipLog.BadRecord(_logger, name, ex.Message);
            return null;
        }
    }

    private sealed record Observed(string ETag, long ChangedAt, MemberRecord Record, bool FirstSight);

    private static partial class MembershipLog
    {
        [LoggerMessage(1100, LogLevel.Information, "Membership changed; live: {Members}")]
        public static partial void ViewChanged(ILogger logger, string members);

        [LoggerMessage(1101, LogLevel.Warning, "Membership heartbeat failed, will retry: {Error}")]
        public static partial void BeatFailed(ILogger logger, string error);

        [LoggerMessage(1102, LogLevel.Warning, "Another process rewrote the membership record of node {NodeId}: two nodes share one AzKv__NodeId.")]
        public static partial void RecordOverwritten(ILogger logger, string nodeId);

        [LoggerMessage(1103, LogLevel.Warning, "Ignoring malformed membership record {Blob}: {Error}")]
        public static partial void BadRecord(ILogger logger, string blob, string error);
    }
}
