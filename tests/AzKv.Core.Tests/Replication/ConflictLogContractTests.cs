using AzKv.Partitions;
using AzKv.Replication;
using AzKv.Storage;
using AzKv.Testing;
using AzKv.Testing.Azurite;

namespace AzKv.Core.Tests.Replication;

/// <summary>
/// The conflict log against each blob store (in-memory with Azure's 4 MiB Append Block limit, and
/// Azurite): large loser values must never make an append fail (a 413 there stalled the
/// partition's replication for good).
/// </summary>
public abstract class ConflictLogContractTests
{
    protected abstract Task<IBlobStore> CreateStoreAsync();

    [Theory]
    [InlineData(3 * 1024 * 1024 + 512 * 1024)]
    [InlineData(8 * 1024 * 1024)]
    public async Task AppendAsync_WhenALoserValueIsLargerThanAnAppendBlockAllows_RecordsItWithItsWholeValue(int size)
    {
        var store = await CreateStoreAsync();
        var log = new ConflictLog(store, partition: 3, epoch: 1);
        var large = Value(size, seed: 7);
        var small = Value(100, seed: 9);

        await log.AppendAsync([Entry("big", "east", 2, large), Entry("small", "east", 3, small)], CancellationToken.None);
        await log.AppendAsync([Entry("after", "east", 4, small)], CancellationToken.None);

        var read = await ConflictLog.ReadAsync(store, "", 100, CancellationToken.None);
        Assert.Equal(["after", "big", "small"], read.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(large, read.Single(e => e.Key == "big").Loser.Value);
        Assert.Equal(small, read.Single(e => e.Key == "small").Loser.Value);

        // The log line refers to the value; the value blob sits outside the logs' prefix.
        var logs = await store.ListAsync(StorageLayout.ConflictPrefix, null, 100, CancellationToken.None);
        Assert.All(logs.Items, b => Assert.True(b.ContentLength < BlobLimits.MaxAppendBlockBytes, $"{b.Name} is {b.ContentLength} bytes."));
        var values = await store.ListAsync(StorageLayout.ConflictValuePrefix, null, 100, CancellationToken.None);
        Assert.Equal(size, Assert.Single(values.Items).ContentLength);
    }

    [Fact]
    public async Task AppendAsync_WhenTheSameLargeLoserIsRecordedTwice_KeepsOneValueAndReadsOneEntry()
    {
        var store = await CreateStoreAsync();
        var large = Value(ConflictLog.MaxInlineValueBytes + 1, seed: 1);

        // A replay after a crash: a new owner (epoch 2) records the same (key, loser dot) again.
        await new ConflictLog(store, 0, 1).AppendAsync([Entry("k", "west", 5, large)], CancellationToken.None);
        await new ConflictLog(store, 0, 2).AppendAsync([Entry("k", "west", 5, large)], CancellationToken.None);

        var entry = Assert.Single(await ConflictLog.ReadAsync(store, "k", 10, CancellationToken.None));
        Assert.Equal(large, entry.Loser.Value);
        Assert.Single((await store.ListAsync(StorageLayout.ConflictValuePrefix, null, 100, CancellationToken.None)).Items);
    }

    [Fact]
    public async Task AppendAsync_WhenALoserValueIsSmall_KeepsItInTheLogLine()
    {
        var store = await CreateStoreAsync();
        var value = Value(ConflictLog.MaxInlineValueBytes, seed: 2);

        await new ConflictLog(store, 1, 1).AppendAsync([Entry("k", "west", 1, value)], CancellationToken.None);

        var entry = Assert.Single(await ConflictLog.ReadAsync(store, "", 10, CancellationToken.None));
        Assert.Equal(value, entry.Loser.Value);
        Assert.Null(entry.Loser.ValueBlob);
        Assert.Empty((await store.ListAsync(StorageLayout.ConflictValuePrefix, null, 100, CancellationToken.None)).Items);
    }

    private static ConflictEntry Entry(string key, string region, ulong counter, byte[] value) => new(
        key,
        new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero).AddSeconds(counter),
        "local",
        new ConflictVersion("local", 9, 1000 + (long)counter, false, "text/plain", null),
        new ConflictVersion(region, counter, 900 + (long)counter, false, "application/octet-stream", value));

    private static byte[] Value(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>The conflict log on the in-memory store.</summary>
public sealed class InMemoryConflictLogTests : ConflictLogContractTests
{
    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var store = new InMemoryBlobStore("azkv-conflicts", TimeProvider.System);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        return store;
    }
}

/// <summary>The conflict log on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzuriteConflictLogTests : ConflictLogContractTests
{
    private readonly AzuriteFixture _azurite;

    public AzuriteConflictLogTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        var store = _azurite.CreateStore("conflicts" + Guid.NewGuid().ToString("N")[..16]);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        return store;
    }
}
