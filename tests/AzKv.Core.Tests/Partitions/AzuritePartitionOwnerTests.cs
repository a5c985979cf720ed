using AzKv.Storage;
using AzKv.Testing.Azurite;

namespace AzKv.Core.Tests.Partitions;

/// <summary>
/// The engine's contract suite against the real Azure Blob client on Azurite, in real time
/// (leases expire and break on Azurite's clock).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzuritePartitionOwnerTests : PartitionOwnerContractTests
{
    private readonly IBlobStore _store;

    public AzuritePartitionOwnerTests(AzuriteFixture azurite)
    {
        _store = azurite.CreateStore("e" + Guid.NewGuid().ToString("N")[..20]);
    }

    protected override IBlobStore Store => _store;

    protected override TimeProvider Time => TimeProvider.System;

    protected override Task<T> PumpAsync<T>(Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(90));
}
