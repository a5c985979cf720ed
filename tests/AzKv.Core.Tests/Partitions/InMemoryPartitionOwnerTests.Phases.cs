using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AzKv.Partitions;

namespace AzKv.Core.Tests.Partitions;

/// <summary>The writer loop's phase times (azkv.writer.phase.duration): where a group-commit cycle goes.</summary>
public sealed partial class InMemoryPartitionOwnerTests
{
    [Fact]
    public async Task WriteAsync_WhenABatchCommits_RecordsEveryWriterPhase()
    {
        var phases = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var negative = new ConcurrentBag<double>();
        using var listener = new MeterListener();
        // By name: this may run inside PartitionMetrics' type initializer, before its fields are set.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PartitionMetrics.MeterName && instrument.Name == "azkv.writer.phase.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        var owner = await OpenAsync();
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (value < 0)
            {
                negative.Add(value);
            }

            foreach (var tag in tags)
            {
                if (tag.Key == "phase")
                {
                    phases.AddOrUpdate((string)tag.Value!, 1, (_, n) => n + 1);
                }
            }
        });
        listener.Start();

        Assert.Equal(WriteStatus.Committed, (await PutAsync(owner, "phase-k", "v")).Status);

        // "apply" ends after the callers are completed, so it may be recorded a moment after this put returns.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!phases.ContainsKey("apply") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        listener.Dispose();

        // Other owners in the process may record too: every phase of this batch is there at least once.
        Assert.Empty(negative);
        Assert.Equal(["apply", "commit", "decide", "gather", "idle"], phases.Keys.Order(StringComparer.Ordinal));
    }
}
