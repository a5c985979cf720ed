using AzKv.Storage;
using Microsoft.Extensions.Logging;

namespace AzKv.Partitions;

/// <summary>
/// The lease an owner holds on its active WAL segment, renewed in the background.
/// </summary>
/// <remarks>
/// Validity is measured on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>): a lease is
/// trusted until (time the acquire/renew request was sent + duration − safety margin). The
/// service starts the lease no earlier than it receives the request, so this never overestimates.
/// When storage says the lease is gone (a renew refused), <see cref="Lost"/> is cancelled at once.
/// </remarks>
internal sealed class SegmentLease : IAsyncDisposable
{
    private readonly IBlobStore _store;
    private readonly PartitionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private long _validUntilTimestamp;
    private Task? _renewLoop;
    private int _released;

    private SegmentLease(IBlobStore store, string blobName, string leaseId, long sentTimestamp, PartitionOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        BlobName = blobName;
        LeaseId = leaseId;
        _options = options;
        _time = time;
        _logger = logger;
        _validUntilTimestamp = ValidUntil(sentTimestamp);
    }

    /// <summary>The leased segment.</summary>
    public string BlobName { get; }

    /// <summary>The lease id (the owner's fencing token on this segment).</summary>
    public string LeaseId { get; }

    /// <summary>Cancelled the moment the lease is known to be lost.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>True while the lease is certainly held: not lost, and inside the safe window.</summary>
    public bool IsValid => !_lost.IsCancellationRequested && _time.GetTimestamp() < Volatile.Read(ref _validUntilTimestamp);

    /// <summary>How much longer the lease is certainly held (zero when not).</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (_lost.IsCancellationRequested)
            {
                return TimeSpan.Zero;
            }

            var remaining = _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _validUntilTimestamp));
            return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Tries to acquire the lease with <paramref name="leaseId"/>. Returns null when another holder
    /// has it (or it is being broken); other storage errors propagate.
    /// </summary>
    public static async Task<SegmentLease?> TryAcquireAsync(
        IBlobStore store, string blobName, string leaseId, PartitionOptions options, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var sent = time.GetTimestamp();
        try
        {
            await store.AcquireLeaseAsync(blobName, options.LeaseDuration, leaseId, default, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsLeaseConflict)
        {
            return null;
        }

        var lease = new SegmentLease(store, blobName, leaseId, sent, options, time, logger);
        lease._renewLoop = Task.Run(lease.RenewLoopAsync, CancellationToken.None);
        return lease;
    }

    /// <summary>Marks the lease lost (an append said so) and stops renewing.</summary>
    public void MarkLost(string reason)
    {
        if (!_lost.IsCancellationRequested)
        {
            PartitionLog.LeaseLost(_logger, BlobName, reason);
            _lost.Cancel();
        }

        _stop.Cancel();
    }

    /// <summary>Stops renewing without releasing (a crash): the lease lapses on its own.</summary>
    public void Abandon()
    {
        Interlocked.Exchange(ref _released, 1);
        _stop.Cancel();
        _lost.Cancel();
    }

    /// <summary>Releases the lease so the next owner can take over at once. Best effort.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        await StopRenewingAsync().ConfigureAwait(false);
        var wasValid = !_lost.IsCancellationRequested;
        _lost.Cancel();
        if (!wasValid)
        {
            return;
        }

        try
        {
            await _store.ReleaseLeaseAsync(BlobName, LeaseId, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStorageException ex) when (ex.IsLeaseConflict || ex.IsNotFound || ex.IsTransient)
        {
            // Already lost or expired, or storage is unreachable: the lease will simply expire.
            PartitionLog.LeaseReleaseFailed(_logger, BlobName, ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        _lost.Cancel();
        _lost.Dispose();
        _stop.Dispose();
    }

    private long ValidUntil(long sentTimestamp) =>
        sentTimestamp + ToTimestampTicks(_options.LeaseDuration - _options.LeaseSafetyMargin);

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private async Task StopRenewingAsync()
    {
        _stop.Cancel();
        if (_renewLoop is not null)
        {
            await _renewLoop.ConfigureAwait(false);
        }
    }

    private async Task RenewLoopAsync()
    {
        var delay = _options.LeaseRenewInterval;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var sent = _time.GetTimestamp();
            try
            {
                await _store.RenewLeaseAsync(BlobName, LeaseId, _stop.Token).ConfigureAwait(false);
                Volatile.Write(ref _validUntilTimestamp, ValidUntil(sent));
                PartitionMetrics.LeaseRenewals.Add(1, PartitionMetrics.Outcome("ok"));
                delay = _options.LeaseRenewInterval;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (BlobStorageException ex) when (ex.IsLeaseLost || ex.IsLeaseConflict || ex.IsNotFound)
            {
                PartitionMetrics.LeaseRenewals.Add(1, PartitionMetrics.Outcome("lost"));
                MarkLost($"renew refused: {ex.ErrorCode ?? ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
                return;
            }
            catch (BlobStorageException ex)
            {
                // Transient: keep the lease if we can. Retry soon; reads stop by themselves once
                // the safe window closes, and the writer steps down if storage stays away.
                PartitionMetrics.LeaseRenewals.Add(1, PartitionMetrics.Outcome("error"));
                PartitionLog.LeaseRenewFailed(_logger, BlobName, ex.Message);
                delay = TimeSpan.FromSeconds(1);
            }
        }
    }
}
