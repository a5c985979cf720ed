using AzKv.Testing.Azurite;

namespace AzKv.Console.Tests;

/// <summary>One Azurite process for the console tests; the tests of the collection run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "azurite";
}
