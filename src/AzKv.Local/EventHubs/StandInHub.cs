using System.Collections.Immutable;

namespace AzKv.Local.EventHubs;

/// <summary>An event hub of the stand-in: a fixed set of partitions and the consumer groups it accepts.</summary>
internal sealed class StandInHub
{
    public StandInHub(string name, int partitionCount, IEnumerable<string> consumerGroups, EventHubsStandInOptions options)
    {
        Name = name;
        CreatedAt = options.TimeProvider.GetUtcNow();
        Partitions = Enumerable.Range(0, partitionCount)
            .Select(i => new StandInPartition(i.ToString(System.Globalization.CultureInfo.InvariantCulture), options.TimeProvider, options.Retention))
            .ToImmutableArray();
        ConsumerGroups = consumerGroups.Append(EventHubsStandIn.DefaultConsumerGroup).ToImmutableHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public string Name { get; }

    public DateTimeOffset CreatedAt { get; }

    public ImmutableArray<StandInPartition> Partitions { get; }

    public ImmutableHashSet<string> ConsumerGroups { get; }

    public StandInPartition? FindPartition(string id) =>
        int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) && i >= 0 && i < Partitions.Length
            ? Partitions[i]
            : null;
}
