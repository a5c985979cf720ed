using AzKv.Testing;

namespace AzKv.Storage.Tests.Contract;

/// <summary>The contract suite against the in-memory store, on a manual clock.</summary>
public sealed class InMemoryBlobStoreContractTests : BlobStoreContractTests
{
    private readonly ManualTimeProvider _clock = new();

    protected override IBlobStore CreateStore(string containerName) => new InMemoryBlobStore(containerName, _clock);

    protected override async Task ElapseUntilAsync(TimeSpan duration, Func<Task<bool>> condition)
    {
        _clock.Advance(duration);
        Assert.True(await condition(), $"Condition did not hold after advancing the clock by {duration}.");
    }
}
