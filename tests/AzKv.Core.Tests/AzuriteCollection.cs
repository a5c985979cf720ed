using AzKv.Testing.Azurite;

namespace AzKv.Core.Tests;

/// <summary>One Azurite process shared by the engine tests that run against it.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
