using AzKv.Testing.Azurite;

namespace AzKv.Extensions.Configuration.Tests;

/// <summary>One Azurite process shared by every test class of this assembly that needs it.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "azurite";
}
