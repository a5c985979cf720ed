using AzKv.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AzKv.Server.Snapshots;

/// <summary>
/// Deletes expired snapshots every <see cref="Interval"/> on the node's clock (docs/storage-layout.md). Every node
/// sweeps; the deletes are conditional on the ETag read, so concurrent sweeps never remove a snapshot created again.
/// </summary>
internal sealed partial class SnapshotSweeper : BackgroundService
{
    /// <summary>Time between sweeps.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private readonly SnapshotStore _snapshots;
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotSweeper> _log;

    public SnapshotSweeper(SnapshotStore snapshots, TimeProvider time, ILogger<SnapshotSweeper> log)
    {
        _snapshots = snapshots;
        _time = time;
        _log = log;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var deleted = await _snapshots.SweepAsync(stoppingToken).ConfigureAwait(false);
                    if (deleted > 0)
                    {
                        LogSwept(_log, deleted);
                    }
                }
                catch (Exception ex) when (ex is BlobStorageException or InvalidDataException)
                {
                    LogSweepFailed(_log, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Deleted {Count} expired snapshots")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Warning, Message = "The snapshot sweep failed; it runs again later")]
    private static partial void LogSweepFailed(ILogger logger, Exception error);
}
