namespace AzKv.Server.Tests.Chaos;

/// <summary>The chaos run starts its own Azurite and three nodes: it runs alone, after the parallel collections.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "chaos";
}
