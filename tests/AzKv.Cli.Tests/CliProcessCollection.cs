namespace AzKv.Cli.Tests;

/// <summary>
/// Tests that run azkv as processes (each <c>azkv up</c> starts its own Azurite and nodes):
/// one at a time, so they do not compete for ports and the two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliProcessCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "cli-processes";
}
