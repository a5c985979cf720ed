using AzKv.Storage;
using AzKv.Testing.Azurite;

namespace AzKv.Core.Tests.Replication;

/// <summary>The multi-region contract on Azurite: each region in its own container, through the REST client.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzuriteMultiRegionTests : MultiRegionContractTests
{
    private readonly AzuriteFixture _azurite;

    public AzuriteMultiRegionTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    protected override async Task<IBlobStore> CreateStoreAsync(string region)
    {
        var store = _azurite.CreateStore("r" + region + Guid.NewGuid().ToString("N")[..16]);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        return store;
    }
}
