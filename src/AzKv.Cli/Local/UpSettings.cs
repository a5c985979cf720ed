using System.Text.RegularExpressions;

namespace AzKv.Cli.Local;

/// <summary>What <c>azkv up</c> starts.</summary>
/// <param name="Nodes">Node processes, 1–32.</param>
/// <param name="BasePort">Port of node-1; node-i listens on BasePort + i - 1.</param>
/// <param name="DataDirectory">Where Azurite keeps its data and the nodes their logs; null keeps data in memory.</param>
/// <param name="Region">The region id.</param>
/// <param name="Partitions">Partitions when the cluster is first created.</param>
/// <param name="ReadyTimeout">How long every node has to answer /readyz with 200.</param>
/// <param name="Regions">Regions, 1–8; each a full cluster of <paramref name="Nodes"/> nodes with its own storage account.</param>
/// <param name="FrontEnds">
/// Front-end-only processes per region, 0–32 (role <c>frontend</c>: no lease, no partition; they forward
/// every key to its owner, as the Functions app does in Azure). Their ports follow every node's.
/// </param>
/// <param name="Transport">
/// How regions replicate when there are several: <c>eventhubs</c> (default: up runs the local Event Hubs
/// stand-in and every owner publishes to its region's hub) or <c>blobtail</c> (regions tail each other's WAL blobs).
/// </param>
/// <param name="NoAuth">Run the nodes without authentication (<c>--no-auth</c>): anyone who reaches a port may do anything.</param>
/// <param name="Https">Serve https with a certificate of a local CA made in the data directory (<c>--https</c>).</param>
internal sealed partial record UpSettings(int Nodes, int BasePort, string? DataDirectory, string Region, int Partitions, TimeSpan ReadyTimeout, int Regions = 1, int FrontEnds = 0, string Transport = UpSettings.EventHubsTransport, bool NoAuth = false, bool Https = false)
{
    public const string EventHubsTransport = "eventhubs";

    public const string BlobTailTransport = "blobtail";

    /// <summary>Partitions of each region's hub: one per kv partition, up to the Standard tier's 32.</summary>
    public int HubPartitions => Math.Min(Partitions, 32);

    /// <summary>True when up runs the Event Hubs stand-in (several regions on the eventhubs transport).</summary>
    public bool UsesEventHubs => Regions > 1 && Transport == EventHubsTransport;

    public const int MaxNodes = 32;

    public const int MaxRegions = 8;

    /// <summary>Every node of every region.</summary>
    public int TotalNodes => Nodes * Regions;

    /// <summary>Every process with a port: the nodes, then the front ends.</summary>
    public int TotalProcesses => (Nodes + FrontEnds) * Regions;

    /// <summary>
    /// The region ids: <see cref="Region"/> alone for one region, else <c>&lt;region&gt;-1</c> … <c>&lt;region&gt;-R</c>.
    /// </summary>
    public IReadOnlyList<string> RegionNames => Regions == 1
        ? [Region]
        : [.. Enumerable.Range(1, Regions).Select(i => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Region}-{i}"))];

    public const int MaxPartitions = 4096;

    /// <summary>Problems with the settings, each naming the option; empty when they are fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Nodes is < 1 or > MaxNodes)
        {
            errors.Add($"--nodes must be from 1 to {MaxNodes}.");
        }

        if (Regions is < 1 or > MaxRegions)
        {
            errors.Add($"--regions must be from 1 to {MaxRegions}.");
        }

        if (FrontEnds is < 0 or > MaxNodes)
        {
            errors.Add($"--frontends must be from 0 to {MaxNodes}.");
        }

        if (BasePort < 1 || BasePort + Math.Max(TotalProcesses, 1) - 1 > 65535)
        {
            errors.Add("--base-port must leave room for every node's port (1 to 65535).");
        }

        if (!RegionPattern().IsMatch(Region) || (Regions > 1 && Region.Length > 29))
        {
            errors.Add("--region must be 1 to 32 characters of a-z, 0-9 and '-' (at most 29 with --regions, which adds '-<i>').");
        }

        if (Partitions is < 1 or > MaxPartitions)
        {
            errors.Add($"--partitions must be from 1 to {MaxPartitions}.");
        }

        if (Transport is not (EventHubsTransport or BlobTailTransport))
        {
            errors.Add($"--transport must be '{EventHubsTransport}' or '{BlobTailTransport}'.");
        }

        if (ReadyTimeout <= TimeSpan.Zero)
        {
            errors.Add("--ready-timeout must be positive.");
        }

        return errors;
    }

    [GeneratedRegex("^[a-z0-9-]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionPattern();
}
