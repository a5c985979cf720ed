using Microsoft.Extensions.Logging;

namespace AzKv.Cluster;

/// <summary>Logs of <see cref="NodeSupervisor"/> (event ids 2000–2099).</summary>
internal static partial class NodeSupervisorLog
{
    /// <summary>The event id of <see cref="LoopFailed"/>.</summary>
    public const int LoopFailedEventId = 2006;

    [LoggerMessage(2000, LogLevel.Information, "Node {NodeId} starting in region {Region} with {Partitions} partitions.")]
    public static partial void Starting(ILogger logger, string nodeId, string region, int partitions);

    [LoggerMessage(2001, LogLevel.Information, "Node {NodeId} stopped; partitions handed over.")]
    public static partial void Stopped(ILogger logger, string nodeId);

    [LoggerMessage(2002, LogLevel.Warning, "Partition {Partition}: handing over failed: {Error}")]
    public static partial void HandOverFailed(ILogger logger, int partition, string error);

    [LoggerMessage(2003, LogLevel.Warning, "Partition {Partition}: re-opening after the owner stopped: {Reason}")]
    public static partial void Reopening(ILogger logger, int partition, string reason);

    [LoggerMessage(2004, LogLevel.Error, "Partition {Partition} is corrupt and will not be served: {Error}")]
    public static partial void PartitionCorrupt(ILogger logger, int partition, string error);

    [LoggerMessage(2005, LogLevel.Warning, "Partition {Partition}: opening failed, will retry: {Error}")]
    public static partial void OpenFailed(ILogger logger, int partition, string error);

    [LoggerMessage(LoopFailedEventId, LogLevel.Error, "Node supervisor: an iteration failed ({Failures} in a row); trying again in {DelayMilliseconds} ms.")]
    public static partial void LoopFailed(ILogger logger, int failures, double delayMilliseconds, Exception exception);
}
