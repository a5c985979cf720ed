using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;

namespace AzKv.Replication;

/// <summary>Pacing of a <see cref="ReplicationConsumer"/>.</summary>
public sealed class ReplicationOptions
{
    /// <summary>Wait after a read that found nothing new; doubled while the source stays idle.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between reads of an idle source.</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Records read (and applied together) per round.</summary>
    public int MaxRecordsPerRead { get; set; } = 2048;

    /// <summary>Wait after a failed round (source unreachable, this owner busy), before retrying.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (PollInterval <= TimeSpan.Zero || MaxPollInterval < PollInterval)
        {
            throw new ArgumentException("PollInterval must be positive and at most MaxPollInterval.", nameof(PollInterval));
        }

        if (MaxRecordsPerRead < 1)
        {
            throw new ArgumentException("MaxRecordsPerRead must be at least 1.", nameof(MaxRecordsPerRead));
        }
    }
}

/// <summary>Where a consumer stands, as one immutable snapshot.</summary>
/// <param name="SourceRegion">The source region.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Position">The saved position (null before the first record).</param>
/// <param name="LastAppliedHlc">HLC of the last record applied (0 when none yet).</param>
/// <param name="CaughtUp">True when the last read found nothing newer at the source.</param>
/// <param name="Paused">True while paused by an operator or a test.</param>
/// <param name="AppliedRecords">Records applied since this consumer started.</param>
/// <param name="LastError">The last failure, cleared by the next good round.</param>
/// <param name="Bootstrapping">
/// True until this region has once read the source's whole log (every origin) to its end; while it is,
/// this partition must not accept local writes (see <see cref="ReplicationScope.AllOrigins"/>).
/// </param>
internal sealed record ReplicationProgress(
    string SourceRegion, int Partition, ReplicationPosition? Position, long LastAppliedHlc, bool CaughtUp, bool Paused, long AppliedRecords, string? LastError,
    bool Bootstrapping = true)
{
    /// <summary>
    /// Replication lag at <paramref name="now"/>: 0 when caught up with the source, else now minus
    /// the HLC of the last applied record; null when behind and nothing was applied yet.
    /// </summary>
    public double? LagMilliseconds(DateTimeOffset now)
    {
        if (CaughtUp && LastError is null)
        {
            return 0;
        }

        if (LastAppliedHlc == 0)
        {
            return null;
        }

        return Math.Max(0, now.ToUnixTimeMilliseconds() - HybridLogicalClock.GetPhysicalMilliseconds(LastAppliedHlc));
    }
}

/// <summary>
/// Brings one source region's writes to one partition of this region, for as long as this node owns
/// the partition: reads the source's log through the transport, applies the records through the
/// owner's writer (<see cref="PartitionOwner.ApplyAsync"/>), then saves its position in this region's
/// storage (<c>replication/{source}/{p:D4}.json</c>, compare-and-swap). A crash between applying and
/// saving re-applies some records, which changes nothing (DVV merge is idempotent).
/// </summary>
internal sealed partial class ReplicationConsumer : IAsyncDisposable
{
    private readonly PartitionOwner _owner;
    private readonly IReplicationTransport _transport;
    private readonly IBlobStore _local;
    private readonly ReplicationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReplicationWakeSource? _monitor;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _round = new(1, 1);
    private readonly string _positionBlob;
    private ReplicationProgress _progress;
    private TaskCompletionSource _resumed = NewResumeSignal(completed: true);
    private TaskCompletionSource _wake = NewResumeSignal(completed: false);
    private Task _loop = Task.CompletedTask;
    private string? _positionETag;

    /// <summary>
    /// Creates a consumer for <paramref name="owner"/>'s partition; call <see cref="Start"/>. With a
    /// <paramref name="monitor"/> of the source, an idle consumer wakes when the source's segments
    /// change instead of polling (and polls every <see cref="ReplicationOptions.MaxPollInterval"/> as a safety net).
    /// </summary>
    public ReplicationConsumer(
        PartitionOwner owner, IReplicationTransport transport, IBlobStore localStorage, ReplicationOptions options, TimeProvider time, ILogger logger,
        IReplicationWakeSource? monitor = null)
    {
        _monitor = monitor;
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(localStorage);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _owner = owner;
        _transport = transport;
        _local = localStorage;
        _options = options;
        _time = time;
        _logger = logger;
        _positionBlob = StorageLayout.ReplicationPosition(transport.SourceRegion, owner.Partition);
        _progress = new ReplicationProgress(transport.SourceRegion, owner.Partition, null, 0, false, false, 0, null);
    }

    /// <summary>The source region.</summary>
    public string SourceRegion => _transport.SourceRegion;

    /// <summary>Where this consumer stands.</summary>
    public ReplicationProgress Progress => Volatile.Read(ref _progress);

    /// <summary>Completes when the loop has ended (stopped, or the owner stopped).</summary>
    public Task Completion => _loop;

    /// <summary>Starts the loop in the background.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);

    /// <summary>Stops reading; completes once the round in progress (if any) has ended, so nothing is applied after it.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _resumed);
        if (current.Task.IsCompleted && ReferenceEquals(Interlocked.CompareExchange(ref _resumed, NewResumeSignal(completed: false), current), current))
        {
            Update(p => p with { Paused = true, CaughtUp = false });
        }

        await _round.WaitAsync(cancellationToken).ConfigureAwait(false);
        _round.Release();
    }

    /// <summary>Resumes reading from the saved position.</summary>
    public void Resume()
    {
        Update(p => p with { Paused = false });
        Volatile.Read(ref _resumed).TrySetResult();

        // A pause marks the consumer as not caught up; an idle loop may be asleep on the monitor or
        // a poll for a long time, so the resume wakes it to read (and say it is caught up) at once.
        Interlocked.Exchange(ref _wake, NewResumeSignal(completed: false)).TrySetResult();
    }

    /// <summary>Stops the loop and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Volatile.Read(ref _resumed).TrySetResult();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stopping.Dispose();
    }

    private static TaskCompletionSource NewResumeSignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            signal.SetResult();
        }

        return signal;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var idle = _options.PollInterval;
        var loaded = false;
        long seen = 0;
        while (!cancellationToken.IsCancellationRequested && _owner.StopReason is null)
        {
            await Volatile.Read(ref _resumed).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            var woken = Volatile.Read(ref _wake).Task; // taken before the round: a resume during it wakes the sleep after it
            TimeSpan wait;
            var idleWait = false;
            await _round.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!Volatile.Read(ref _resumed).Task.IsCompleted)
                {
                    continue; // paused while waiting for the gate
                }

                if (!loaded)
                {
                    await LoadPositionAsync(cancellationToken).ConfigureAwait(false);
                    loaded = true;
                }

                seen = _monitor?.VersionOf(_owner.Partition) ?? 0;
                var moved = await RoundAsync(cancellationToken).ConfigureAwait(false);
                idleWait = moved == false;
                if (moved is null)
                {
                    wait = _options.RetryInterval; // this owner could not apply: it is stopping, or storage is down
                }
                else if (moved.Value)
                {
                    idle = _options.PollInterval;
                    wait = TimeSpan.Zero;
                }
                else
                {
                    wait = idle;
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, _options.MaxPollInterval.Ticks));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is BlobStorageException or PartitionStorageException or HttpRequestException or IOException)
            {
                ReplicationLog.RoundFailed(_logger, _transport.SourceRegion, _owner.Partition, ex.Message);
                Update(p => p with { LastError = ex.Message, CaughtUp = false });
                wait = _options.RetryInterval;
            }
            finally
            {
                _round.Release();
            }

            if (wait > TimeSpan.Zero)
            {
                using var asleep = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                try
                {
                    // With a monitor an idle consumer sleeps until the source's segments change (or the
                    // slowest poll interval passes, as a safety net); else it polls, backing off. A
                    // resume wakes it either way.
                    var sleep = idleWait && _monitor is not null
                        ? _monitor.WaitAsync(_owner.Partition, seen, _options.MaxPollInterval, asleep.Token)
                        : Task.Delay(wait, _time, asleep.Token);
                    await Task.WhenAny(sleep, _owner.Stopped, woken).ConfigureAwait(false);
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                }
                finally
                {
                    await asleep.CancelAsync().ConfigureAwait(false);
                }

                if (woken.IsCompleted)
                {
                    idle = _options.PollInterval;
                }
            }
        }
    }

    /// <summary>One read-apply-save round: true when it moved, false when the source had nothing new, null when applying failed.</summary>
    private async Task<bool?> RoundAsync(CancellationToken cancellationToken)
    {
        var from = Progress.Position;
        var bootstrapping = Progress.Bootstrapping;
        var scope = bootstrapping ? ReplicationScope.AllOrigins : ReplicationScope.SourceOrigin;
        var batch = await _transport.ReadAsync(_owner.Partition, from, _options.MaxRecordsPerRead, scope, cancellationToken).ConfigureAwait(false);
        if (batch.CatchUp is { } checkpoint)
        {
            ReplicationLog.CatchingUp(_logger, _transport.SourceRegion, _owner.Partition, checkpoint.Lsn, checkpoint.Keys.Count);
            var writes = new List<KeyValuePair<string, CausalWrite>>();
            var writers = new List<Wal.WriterIdentity?>();
            foreach (var (key, set) in checkpoint.Keys)
            {
                // The source knows the last writer of a key: it goes with the write it made (same HLC).
                var last = checkpoint.GetLastWrite(key);
                foreach (var write in set.ToWrites())
                {
                    writes.Add(new(key, write));
                    writers.Add(last is not null && last.Hlc == write.Version.Hlc ? last.Writer : null);
                }

                if (writes.Count >= _options.MaxRecordsPerRead && !await ApplyAsync(writes, writers, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }
            }

            if (!await ApplyAsync(writes, writers, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        long lastHlc = 0;
        if (batch.Records.Count > 0)
        {
            var writes = new List<KeyValuePair<string, CausalWrite>>(batch.Records.Count);
            var writers = new List<Wal.WriterIdentity?>(batch.Records.Count);
            foreach (var record in batch.Records)
            {
                writes.Add(new(record.Key, record.Write));
                writers.Add(record.Writer);
            }

            if (!await ApplyAsync(writes, writers, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var source = PartitionMetrics.Source(_transport.SourceRegion);
            foreach (var record in batch.Records)
            {
                PartitionMetrics.ReplicationApplyLag.Record(Math.Max(0, now - HybridLogicalClock.GetPhysicalMilliseconds(record.Write.Version.Hlc)), source);
            }

            PartitionMetrics.ReplicatedRecords.Add(batch.Records.Count, source);
            lastHlc = batch.LastHlc;
        }

        var moved = batch.Position is not null && batch.Position != from;
        var caughtUp = batch.Records.Count == 0 && batch.CatchUp is null;
        var bootstrapped = bootstrapping && caughtUp;
        if (moved || bootstrapped)
        {
            // Reaching the source's end once while reading every origin ends the bootstrap: from
            // then on only the source's own writes are read (the others come from their regions).
            await SavePositionAsync(batch.Position, Math.Max(lastHlc, Progress.LastAppliedHlc), !bootstrapping || bootstrapped, cancellationToken).ConfigureAwait(false);
        }

        if (bootstrapped)
        {
            ReplicationLog.Bootstrapped(_logger, _transport.SourceRegion, _owner.Partition);
        }

        Update(p => p with
        {
            Bootstrapping = p.Bootstrapping && !bootstrapped,
            Position = batch.Position ?? p.Position,
            LastAppliedHlc = Math.Max(p.LastAppliedHlc, lastHlc),
            CaughtUp = caughtUp,
            AppliedRecords = p.AppliedRecords + batch.Records.Count,
            LastError = null,
        });
        return moved || !caughtUp;
    }

    private async Task<bool> ApplyAsync(List<KeyValuePair<string, CausalWrite>> writes, List<Wal.WriterIdentity?> writers, CancellationToken cancellationToken)
    {
        if (writes.Count == 0)
        {
            return true;
        }

        var outcome = await _owner.ApplyAsync(writes, writers, cancellationToken).ConfigureAwait(false);
        writes.Clear();
        writers.Clear();
        if (outcome.Status != WriteStatus.Committed)
        {
            ReplicationLog.ApplyFailed(_logger, _transport.SourceRegion, _owner.Partition, outcome.Status.ToString());
            Update(p => p with { LastError = "applying failed: " + outcome.Status, CaughtUp = false });
            return false;
        }

        return true;
    }

    private async Task LoadPositionAsync(CancellationToken cancellationToken)
    {
        try
        {
            var download = await _local.DownloadAsync(_positionBlob, BlobRange.All, default, cancellationToken).ConfigureAwait(false);
            var saved = JsonSerializer.Deserialize(download.Content.Span, ReplicationJsonContext.Default.SavedPosition)
                ?? throw new JsonException("empty document");
            _positionETag = download.Properties.ETag;
            var position = saved.Segment is null ? null : new ReplicationPosition(saved.Segment, saved.Offset, saved.Lsn, saved.HubSequence);
            Update(p => p with { Position = position, LastAppliedHlc = saved.LastHlc, Bootstrapping = !saved.Bootstrapped });
        }
        catch (BlobStorageException ex) when (ex.IsNotFound && !ex.IsContainerNotFound)
        {
            _positionETag = null;
            Update(p => p with { Position = null });
        }
        catch (JsonException ex)
        {
            // Unreadable: start over from the beginning (re-applying is harmless) and overwrite it.
            ReplicationLog.PositionUnreadable(_logger, _positionBlob, ex.Message);
            var properties = await _local.GetPropertiesAsync(_positionBlob, default, cancellationToken).ConfigureAwait(false);
            _positionETag = properties.ETag;
            Update(p => p with { Position = null });
        }
    }

    private async Task SavePositionAsync(ReplicationPosition? position, long lastHlc, bool bootstrapped, CancellationToken cancellationToken)
    {
        var document = new SavedPosition
        {
            Source = _transport.SourceRegion,
            Partition = _owner.Partition,
            Segment = position?.Segment,
            Offset = position?.Offset ?? 0,
            Lsn = position?.Lsn ?? 0,
            HubSequence = position?.HubSequence,
            LastHlc = lastHlc,
            Bootstrapped = bootstrapped,
            Updated = _time.GetUtcNow(),
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(document, ReplicationJsonContext.Default.SavedPosition);
        var conditions = _positionETag is null ? BlobConditions.IfNotExists : BlobConditions.IfMatchETag(_positionETag);
        try
        {
            var result = await _local.PutBlockBlobAsync(
                _positionBlob, bytes, new BlobWriteOptions { ContentType = "application/json", Conditions = conditions }, cancellationToken).ConfigureAwait(false);
            _positionETag = result.ETag;
        }
        catch (BlobStorageException ex) when (ex.IsPreconditionFailed)
        {
            // Another consumer of this partition saved meanwhile (a previous owner finishing a round):
            // take its ETag and keep ours, which is at least as far (applying again is harmless).
            var properties = await _local.GetPropertiesAsync(_positionBlob, default, cancellationToken).ConfigureAwait(false);
            _positionETag = properties.ETag;
            var retry = await _local.PutBlockBlobAsync(
                _positionBlob, bytes, new BlobWriteOptions { ContentType = "application/json", Conditions = BlobConditions.IfMatchETag(_positionETag) }, cancellationToken).ConfigureAwait(false);
            _positionETag = retry.ETag;
        }
    }

    private void Update(Func<ReplicationProgress, ReplicationProgress> change) => ImmutableInterlocked.Update(ref _progress, change);

    /// <summary>The document at <c>replication/{source}/{p:D4}.json</c>.</summary>
    internal sealed record SavedPosition
    {
        public int Version { get; init; } = 1;

        public string Source { get; init; } = string.Empty;

        public int Partition { get; init; }

        public string? Segment { get; init; }

        public long Offset { get; init; }

        public long Lsn { get; init; }

        /// <summary>Event Hubs transport: the last event hub sequence number read (see <see cref="ReplicationPosition.HubSequence"/>).</summary>
        public long? HubSequence { get; init; }

        public long LastHlc { get; init; }

        /// <summary>True once the source's whole log was read to its end (every origin); see <see cref="ReplicationScope"/>.</summary>
        public bool Bootstrapped { get; init; }

        public DateTimeOffset Updated { get; init; }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ReplicationConsumer.SavedPosition))]
internal sealed partial class ReplicationJsonContext : JsonSerializerContext;

internal static partial class ReplicationLog
{
    [LoggerMessage(4000, LogLevel.Warning, "Replication from {Source}, partition {Partition}: round failed, will retry: {Error}")]
    public static partial void RoundFailed(ILogger logger, string source, int partition, string error);

    [LoggerMessage(4001, LogLevel.Information, "Replication from {Source}, partition {Partition}: catching up from the source's checkpoint at LSN {Lsn} ({Keys} keys).")]
    public static partial void CatchingUp(ILogger logger, string source, int partition, long lsn, int keys);

    [LoggerMessage(4002, LogLevel.Warning, "Replication from {Source}, partition {Partition}: applying stopped ({Status}); will retry from the saved position.")]
    public static partial void ApplyFailed(ILogger logger, string source, int partition, string status);

    [LoggerMessage(4004, LogLevel.Information, "Replication from {Source}, partition {Partition}: bootstrapped (read the source's log to its end); local writes accepted.")]
    public static partial void Bootstrapped(ILogger logger, string source, int partition);

    [LoggerMessage(4003, LogLevel.Warning, "Replication position {Blob} is unreadable ({Error}); starting from the beginning.")]
    public static partial void PositionUnreadable(ILogger logger, string blob, string error);
}
