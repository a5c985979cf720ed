using AzKv.Testing.Azurite;

namespace AzKv.Server.Tests;

/// <summary>One Azurite process shared by the server tests.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
