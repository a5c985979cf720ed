using AzKv.Testing.Azurite;

namespace AzKv.Functions.Tests;

/// <summary>One Azurite process shared by the Functions tests.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
