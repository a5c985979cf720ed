using System.Text.RegularExpressions;

namespace AzKv.Cli.Local;

/// <summary>What <c>azkv up</c> starts.</summary>
/// <param name="Nodes">Node processes, 1–32.</param>
/// <param name="BasePort">Port of node-1; node-i listens on BasePort + i - 1.</param>
/// <param name="DataDirectory">Where Azurite keeps its data and the nodes their logs; null keeps data in memory.</param>
/// <param name="Region">The region id.</param>
/// <param name="Partitions">Partitions when the cluster is first created.</param>
/// <param name="ReadyTimeout">How long every node has to answer /readyz with 200.</param>
internal sealed partial record UpSettings(int Nodes, int BasePort, string? DataDirectory, string Region, int Partitions, TimeSpan ReadyTimeout)
{
    public const int MaxNodes = 32;

    public const int MaxPartitions = 4096;

    /// <summary>Problems with the settings, each naming the option; empty when they are fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Nodes is < 1 or > MaxNodes)
        {
            errors.Add($"--nodes must be from 1 to {MaxNodes}.");
        }

        if (BasePort < 1 || BasePort + Math.Max(Nodes, 1) - 1 > 65535)
        {
            errors.Add("--base-port must leave room for every node's port (1 to 65535).");
        }

        if (!RegionPattern().IsMatch(Region))
        {
            errors.Add("--region must be 1 to 32 characters of a-z, 0-9 and '-'.");
        }

        if (Partitions is < 1 or > MaxPartitions)
        {
            errors.Add($"--partitions must be from 1 to {MaxPartitions}.");
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
