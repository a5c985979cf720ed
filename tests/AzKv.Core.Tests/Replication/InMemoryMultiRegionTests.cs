using AzKv.Storage;
using AzKv.Testing;

namespace AzKv.Core.Tests.Replication;

/// <summary>The multi-region contract on the in-memory blob store (one store per region).</summary>
public sealed class InMemoryMultiRegionTests : MultiRegionContractTests
{
    protected override async Task<IBlobStore> CreateStoreAsync(string region)
    {
        var store = new InMemoryBlobStore("azkv-" + region, TimeProvider.System);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        return store;
    }
}
