using System.Diagnostics;
using AzKv.Testing.Azurite;

namespace AzKv.Storage.Tests.Contract;

/// <summary>The contract suite against the Azure Blob REST client talking to a real Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzuriteBlobStoreContractTests : BlobStoreContractTests
{
    private readonly AzuriteFixture _azurite;

    public AzuriteBlobStoreContractTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    protected override IBlobStore CreateStore(string containerName) => _azurite.CreateStore(containerName);

    protected override async Task ElapseUntilAsync(TimeSpan duration, Func<Task<bool>> condition)
    {
        // Real time: wait on the condition with a deadline rather than sleeping a fixed time.
        var deadline = duration + TimeSpan.FromSeconds(15);
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < deadline, $"Condition did not hold within {deadline}.");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}
