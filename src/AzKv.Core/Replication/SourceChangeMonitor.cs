using System.Globalization;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Threading;
using Microsoft.Extensions.Logging;

namespace AzKv.Replication;

/// <summary>
/// Watches a source region's WAL segments with one listing of <c>partitions/</c> per interval
/// (its cost does not grow with the partition count) and wakes the consumers of the partitions
/// whose segments grew, appeared or went away. Consumers still poll on their own at a slower pace,
/// so a missed listing only delays, never loses, a record.
/// </summary>
public sealed partial class SourceChangeMonitor : IAsyncDisposable, IReplicationWakeSource
{
    private readonly IBlobStore _source;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BackgroundLoop _loop = new();
    private readonly Dictionary<int, long> _versions = [];
    private readonly object _gate = new();
    private Dictionary<string, long> _lengths = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a monitor of <paramref name="sourceRegion"/>'s storage, listing every <paramref name="interval"/>.</summary>
    public SourceChangeMonitor(string sourceRegion, IBlobStore source, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        SourceRegion = sourceRegion;
        _source = source;
        _interval = interval;
        _time = time;
        _logger = logger;
    }

    /// <summary>The region watched.</summary>
    public string SourceRegion { get; }

    /// <summary>Starts listing in the background.</summary>
    public void Start() => _loop.Start(RunAsync);

    /// <summary>How many changes of <paramref name="partition"/>'s segments were seen so far (to pass to <see cref="WaitAsync"/>).</summary>
    public long VersionOf(int partition)
    {
        lock (_gate)
        {
            return _versions.GetValueOrDefault(partition);
        }
    }

    /// <summary>
    /// Waits until <paramref name="partition"/>'s segments change after <paramref name="seen"/> (a value
    /// of <see cref="VersionOf"/>), or <paramref name="timeout"/> passes; returns the version now.
    /// </summary>
    public async Task<long> WaitAsync(int partition, long seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var expiry = new CancellationTokenSource(timeout, _time);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var version = _versions.GetValueOrDefault(partition);
                if (version != seen)
                {
                    return version;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return VersionOf(partition);
            }
        }
    }

    /// <summary>Stops listing (idempotent).</summary>
    public ValueTask DisposeAsync() => _loop.DisposeAsync();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ListOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is BlobStorageException or HttpRequestException or IOException)
            {
                MonitorLog.ListingFailed(_logger, SourceRegion, ex.Message);
            }

            try
            {
                await Task.Delay(_interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ListOnceAsync(CancellationToken cancellationToken)
    {
        var lengths = new Dictionary<string, long>(_lengths.Count, StringComparer.Ordinal);
        string? continuation = null;
        try
        {
            do
            {
                var page = await _source.ListAsync("partitions/", continuation, 5000, cancellationToken).ConfigureAwait(false);
                foreach (var item in page.Items)
                {
                    if (item.Name.Contains("/wal/", StringComparison.Ordinal))
                    {
                        lengths[item.Name] = item.ContentLength;
                    }
                }

                continuation = page.ContinuationToken;
            }
            while (continuation is not null);
        }
        catch (BlobStorageException ex) when (ex.IsContainerNotFound)
        {
            // The source region does not exist yet.
        }

        var changed = new HashSet<int>();
        foreach (var (name, length) in lengths)
        {
            if (!_lengths.TryGetValue(name, out var before) || before != length)
            {
                changed.Add(PartitionOf(name));
            }
        }

        foreach (var name in _lengths.Keys)
        {
            if (!lengths.ContainsKey(name))
            {
                changed.Add(PartitionOf(name));
            }
        }

        _lengths = lengths;
        changed.Remove(-1);
        if (changed.Count == 0)
        {
            return;
        }

        TaskCompletionSource wake;
        lock (_gate)
        {
            foreach (var partition in changed)
            {
                _versions[partition] = _versions.GetValueOrDefault(partition) + 1;
            }

            wake = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        wake.TrySetResult();
    }

    /// <summary>The partition of <c>partitions/{p:D4}/wal/…</c>, or -1.</summary>
    private static int PartitionOf(string name)
    {
        var start = "partitions/".Length;
        var end = name.IndexOf('/', start);
        return end > start && int.TryParse(name.AsSpan(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            ? partition
            : -1;
    }

    private static partial class MonitorLog
    {
        [LoggerMessage(4100, LogLevel.Warning, "Listing region {Source}'s segments failed, will retry: {Error}")]
        public static partial void ListingFailed(ILogger logger, string source, string error);
    }
}
