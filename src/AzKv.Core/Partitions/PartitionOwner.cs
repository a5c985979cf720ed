using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

/// <summary>
/// The owner of one partition: holds the lease on the active WAL segment, commits writes in
/// group-commit batches (one Append Block per batch), serves reads from memory while the lease
/// is certainly valid, writes checkpoints, and hands over or steps down.
/// </summary>
/// <remarks>
/// Split by concern: opening from what <see cref="PartitionRecovery"/> took over and recovered
/// (<c>PartitionOwner.Open.cs</c>), the writer loop
/// (<c>.Writer.cs</c>), segment rollover (<c>.Rollover.cs</c>), checkpoints and retention
/// (<c>.Checkpoint.cs</c>), handoff and step-down (<c>.Lifecycle.cs</c>). Only the writer loop
/// mutates the WAL position and publishes state; manifest changes are serialised by
/// <see cref="_manifestLock"/>.
/// </remarks>
public sealed partial class PartitionOwner : IAsyncDisposable
{
    private readonly IBlobStore _store;
    private readonly ManifestStore _manifests;
    private readonly PartitionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OwnerIdentity _identity;
    private readonly HybridLogicalClock _clock;
    private readonly SegmentLeasing _leasing;
    private readonly Channel<PendingWrite> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _manifestLock = new(1, 1);
    private readonly ChangeFeed? _feed;

    private PartitionState _state;
    private VersionedManifest _manifest;
    private SegmentLease _lease;
    private long _segmentLength;
    private int _segmentBlocks;
    private long _bytesSinceCheckpoint;
    private Task _writerLoop = Task.CompletedTask;
    private Task _checkpointTask = Task.CompletedTask;
    private string? _stopReason;

    /// <summary>Set by the writer while the current batch's append may have landed without it knowing (see CommitAsync).</summary>
    private bool _commitInDoubt;
    private int _disposed;

    private PartitionOwner(
        int partition,
        IBlobStore store,
        PartitionOptions options,
        TimeProvider time,
        ILogger logger,
        OwnerIdentity identity,
        HybridLogicalClock clock,
        SegmentLeasing leasing,
        RecoveredPartition recovered,
        ChangeFeed? feed)
    {
        Partition = partition;
        _store = store;
        _manifests = new ManifestStore(store);
        _options = options;
        _time = time;
        _logger = logger;
        _identity = identity;
        _clock = clock;
        _leasing = leasing;
        _manifest = recovered.Manifest;
        _lease = recovered.Lease;
        _state = recovered.State;
        _feed = feed;
        _queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(options.MaxQueuedWrites)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The partition number.</summary>
    public int Partition { get; }

    /// <summary>The ownership epoch this owner holds.</summary>
    public long Epoch => Volatile.Read(ref _manifest).Manifest.Epoch;

    /// <summary>LSN of the last committed record.</summary>
    public long Lsn => Volatile.Read(ref _state).Lsn;

    /// <summary>The current state snapshot (whatever the lease says; use <see cref="TryGetState"/> to serve).</summary>
    public PartitionState State => Volatile.Read(ref _state);

    /// <summary>The manifest as this owner last wrote it.</summary>
    public PartitionManifest Manifest => Volatile.Read(ref _manifest).Manifest;

    /// <summary>True while this node may serve: not stopped and the lease certainly held.</summary>
    public bool IsServing => Volatile.Read(ref _stopReason) is null && Volatile.Read(ref _lease).IsValid;

    /// <summary>Why the owner stopped, or null while it runs.</summary>
    public string? StopReason => Volatile.Read(ref _stopReason);

    /// <summary>Completes when the owner has stopped (handed over, stepped down or disposed).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Blocks appended to the active segment so far.</summary>
    public int ActiveSegmentBlocks => Volatile.Read(ref _segmentBlocks);

    /// <summary>
    /// The state to serve a read from, or false when this node must not serve (not the owner,
    /// or the lease is not certainly held right now).
    /// </summary>
    public bool TryGetState(out PartitionState state)
    {
        state = Volatile.Read(ref _state);
        return IsServing;
    }

    /// <summary>
    /// Submits a write; completes after its batch is durable (or with the reason it is not).
    /// Preconditions are checked in queue order, seeing earlier writes of the same batch.
    /// </summary>
    /// <remarks>
    /// The hot put path: no async state machine when the queue has room (the usual case), and the
    /// returned <see cref="ValueTask{TResult}"/> is backed by the pending write itself, so a write
    /// allocates its command and one <see cref="PendingWrite"/>, no task or promise.
    /// </remarks>
    public ValueTask<WriteOutcome> WriteAsync(WriteCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (_stopReason is not null)
        {
            return new ValueTask<WriteOutcome>(WriteOutcome.NotOwner);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<WriteOutcome>(cancellationToken);
        }

        var pending = new PendingWrite(command, _time.GetTimestamp())
        {
            Fingerprint = command.IdempotencyKey is not null && command.Kind != WriteKind.Apply ? RequestFingerprint.Compute(command) : null,
        };

        // The caller may stop waiting; the write itself goes on (it may already be in a batch).
        return _queue.Writer.TryWrite(pending) ? pending.WaitAsync(cancellationToken) : EnqueueAsync(pending, cancellationToken);
    }

    /// <summary>The queue is full (or completed): waits for room, then for the write's batch.</summary>
    private async ValueTask<WriteOutcome> EnqueueAsync(PendingWrite pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return WriteOutcome.NotOwner;
        }

        return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A write waiting for its batch.</summary>
    /// <remarks>
    /// It is also the promise its submitter awaits (an <see cref="IValueTaskSource{TResult}"/>, used once):
    /// the writer completes it with <see cref="TryComplete"/>, or the submitter's cancellation token ends the
    /// wait (the write itself goes on). Whichever comes first wins; the other is ignored.
    /// </remarks>
    private sealed class PendingWrite : IValueTaskSource<WriteOutcome>
    {
        private ManualResetValueTaskSourceCore<WriteOutcome> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _cancellation;
        private int _completed;

        public PendingWrite(WriteCommand command, long enqueuedTimestamp)
        {
            Command = command;
            EnqueuedTimestamp = enqueuedTimestamp;
        }

        public WriteCommand Command { get; }

        public long EnqueuedTimestamp { get; }

        /// <summary>The span of the request that submitted the write (default when untraced): the append's parent or link.</summary>
        public System.Diagnostics.ActivityContext Caller { get; } = System.Diagnostics.Activity.Current?.Context ?? default;

        /// <summary>Set while the batch is built: the outcome to report once the batch is durable.</summary>
        public WriteOutcome Outcome { get; set; }

        /// <summary>For an applied remote write that left concurrent versions under LWW: the resolution (winner and losers).</summary>
        public LwwResolution? Conflict { get; set; }

        /// <summary>What the window records once the batch commits (a logged write with an Idempotency-Key).</summary>
        public IdempotencyEntry? Entry { get; set; }

        /// <summary>The request fingerprint, for a write with an Idempotency-Key.</summary>
        public byte[]? Fingerprint { get; init; }

        /// <summary>The HLC of the write's record, once decided and logged.</summary>
        public long Hlc { get; set; }

        /// <summary>A retry of a write in the same batch (same Idempotency-Key and request): it shares that write's fate.</summary>
        public PendingWrite? DuplicateOf { get; set; }

        /// <summary>Completes the submitter's wait with <paramref name="outcome"/>; false when it already ended.</summary>
        public bool TryComplete(WriteOutcome outcome)
        {
            if (Interlocked.Exchange(ref _completed, 1) != 0)
            {
                return false;
            }

            _core.SetResult(outcome);
            return true;
        }

        /// <summary>
        /// The outcome, once the batch is durable (or the reason it is not); throws
        /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first. Call once.
        /// </summary>
        public ValueTask<WriteOutcome> WaitAsync(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled && Volatile.Read(ref _completed) == 0)
            {
                // Unregistered by GetResult, on the awaiting side (never concurrently with this store).
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PendingWrite)state!).Cancel(token), this);
            }

            return new ValueTask<WriteOutcome>(this, _core.Version);
        }

        private void Cancel(CancellationToken token)
        {
            if (Interlocked.Exchange(ref _completed, 1) == 0)
            {
                _core.SetException(new OperationCanceledException(token));
            }
        }

        WriteOutcome IValueTaskSource<WriteOutcome>.GetResult(short token)
        {
            _cancellation.Unregister();
            return _core.GetResult(token);
        }

        ValueTaskSourceStatus IValueTaskSource<WriteOutcome>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<WriteOutcome>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
