using System.Diagnostics;

namespace AzKv.Partitions;

/// <summary>
/// Spans of the partition engine (activity source <c>AzKv.Engine</c>, the same name as its meter).
/// One span per group-commit append, <c>azkv.wal.append</c>: its parent is the first write of the
/// batch that arrived inside a trace (that request's span), every other traced write of the batch is
/// a link, so each request's trace shows the append that made it durable and the storage call under
/// it. Nothing is allocated when no listener samples the source.
/// </summary>
internal static class PartitionTracing
{
    public const string SourceName = "AzKv.Engine";

    /// <summary>Links kept per span: a batch of thousands of writes must not make a span of thousands of links.</summary>
    private const int MaxLinks = 64;

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>True when some listener (OpenTelemetry, a test) wants the engine's spans.</summary>
    public static bool IsListening => Source.HasListeners();

    /// <summary>Starts the span of one append of <paramref name="records"/> records (<paramref name="bytes"/> bytes), or null when nobody listens.</summary>
    public static Activity? StartAppend(int partition, IReadOnlyList<ActivityContext> writers, long records, int bytes, long lastLsn)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        List<ActivityLink>? links = null;
        foreach (var writer in writers)
        {
            if (writer == default)
            {
                continue;
            }

            if (parent == default)
            {
                parent = writer;
            }
            else if (writer.TraceId != parent.TraceId && (links?.Count ?? 0) < MaxLinks)
            {
                (links ??= []).Add(new ActivityLink(writer));
            }
        }

        var activity = Source.StartActivity("azkv.wal.append", ActivityKind.Internal, parent, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("azkv.partition", partition);
            activity.SetTag("azkv.batch.writes", writers.Count);
            activity.SetTag("azkv.wal.records", records);
            activity.SetTag("azkv.wal.bytes", bytes);
            activity.SetTag("azkv.wal.last_lsn", lastLsn);
        }

        return activity;
    }
}
