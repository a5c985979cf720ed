using System.Diagnostics;
using System.Globalization;
using AzKv.Storage;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// One benchmark writer: owns a leased append blob and appends fixed-size blocks to it as fast
/// as it can, each with the lease id and the expected append position, like a partition owner
/// writing its WAL. Rolls to a new blob before the 50,000-block limit.
/// </summary>
internal sealed class AppendWriter
{
    /// <summary>Lease duration; the writer renews at a third of it, like an owner does.</summary>
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);

    private static readonly long RenewEveryTicks = (long)(LeaseDuration.TotalSeconds / 3 * Stopwatch.Frequency);

    /// <summary>Roll before the service limit, as the engine does (design brief §5).</summary>
    private const int RollAtBlocks = 45_000;

    private readonly IBlobStore _store;
    private readonly string _namePrefix;
    private readonly ReadOnlyMemory<byte> _block;
    private readonly List<string> _blobNames = [];
    private readonly Dictionary<string, int> _errors = new(StringComparer.Ordinal);

    private string _blobName = string.Empty;
    private string _leaseId = string.Empty;
    private long _position;
    private long _leaseRenewedAt;

    public AppendWriter(IBlobStore store, string namePrefix, ReadOnlyMemory<byte> block)
    {
        _store = store;
        _namePrefix = namePrefix;
        _block = block;
    }

    /// <summary>Latency of every successful append, in Stopwatch ticks.</summary>
    public List<long> Samples { get; } = new(capacity: 64 * 1024);

    /// <summary>Failed appends by error code.</summary>
    public IReadOnlyDictionary<string, int> Errors => _errors;

    /// <summary>Why the writer stopped early, if it did.</summary>
    public string? StoppedBecause { get; private set; }

    /// <summary>Creates and leases the first blob, then appends one untimed block to open the connection.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await OpenBlobAsync(cancellationToken).ConfigureAwait(false);
        AppendResult warmup = await _store.AppendBlockAsync(
            _blobName, _block, new AppendConditions { LeaseId = _leaseId, AppendPosition = _position }, cancellationToken).ConfigureAwait(false);
        _position = warmup.AppendOffset + _block.Length;
    }

    /// <summary>Appends until <paramref name="deadline"/> (a Stopwatch timestamp) or cancellation.</summary>
    public async Task RunAsync(long deadline, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline)
        {
            if (Stopwatch.GetTimestamp() - _leaseRenewedAt > RenewEveryTicks)
            {
                _leaseRenewedAt = Stopwatch.GetTimestamp();
                await _store.RenewLeaseAsync(_blobName, _leaseId, cancellationToken).ConfigureAwait(false);
            }

            long started = Stopwatch.GetTimestamp();
            try
            {
                AppendResult result = await _store.AppendBlockAsync(
                    _blobName, _block, new AppendConditions { LeaseId = _leaseId, AppendPosition = _position }, cancellationToken).ConfigureAwait(false);
                Samples.Add(Stopwatch.GetTimestamp() - started);
                _position = result.AppendOffset + _block.Length;
                if (result.CommittedBlockCount >= RollAtBlocks)
                {
                    await _store.ReleaseLeaseAsync(_blobName, _leaseId, cancellationToken).ConfigureAwait(false);
                    await OpenBlobAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (BlobStorageException ex)
            {
                string code = ex.ErrorCode ?? ex.Status.ToString(CultureInfo.InvariantCulture);
                _errors[code] = _errors.GetValueOrDefault(code) + 1;
                if (ex.IsAppendPositionMismatch)
                {
                    // A retried append whose first attempt landed: the tail moved by our own block.
                    BlobProperties properties = await _store.GetPropertiesAsync(_blobName, BlobConditions.None, cancellationToken).ConfigureAwait(false);
                    _position = properties.ContentLength;
                }
                else if (!ex.IsTransient)
                {
                    StoppedBecause = ex.Message;
                    return;
                }
            }
        }
    }

    /// <summary>Releases the lease and deletes every blob this writer created (best effort).</summary>
    public async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        // No lease when the run failed before StartAsync acquired one (e.g. storage unreachable).
        if (!string.IsNullOrEmpty(_leaseId))
        {
            try
            {
                await _store.ReleaseLeaseAsync(_blobName, _leaseId, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStorageException)
            {
                // Lost or already released: deleting below still works without a lease.
            }
        }

        foreach (string name in _blobNames)
        {
            try
            {
                await _store.DeleteAsync(name, BlobConditions.None, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobStorageException)
            {
                // Leave it; the container is a scratch container.
            }
        }
    }

    private async Task OpenBlobAsync(CancellationToken cancellationToken)
    {
        _blobName = string.Create(CultureInfo.InvariantCulture, $"{_namePrefix}-{_blobNames.Count:D3}.log");
        await _store.CreateAppendBlobAsync(
            _blobName, new BlobWriteOptions { Conditions = BlobConditions.IfNotExists }, cancellationToken).ConfigureAwait(false);
        _blobNames.Add(_blobName);
        LeaseResult lease = await _store.AcquireLeaseAsync(
            _blobName, LeaseDuration, proposedLeaseId: null, BlobConditions.None, cancellationToken).ConfigureAwait(false);
        _leaseId = lease.LeaseId;
        _leaseRenewedAt = Stopwatch.GetTimestamp();
        _position = 0;
    }
}
