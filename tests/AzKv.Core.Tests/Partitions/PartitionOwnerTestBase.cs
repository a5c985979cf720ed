using System.Text;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Partitions;

/// <summary>
/// Shared harness of the partition-engine tests: a store, a clock, and helpers to open owners,
/// write and read. Subclasses pick the store (in-memory with a manual clock, or Azurite in real time).
/// </summary>
public abstract class PartitionOwnerTestBase : IAsyncLifetime
{
    protected const int PartitionId = 3;

    private readonly List<PartitionOwner> _owners = [];

    protected abstract IBlobStore Store { get; }

    protected abstract TimeProvider Time { get; }

    /// <summary>Options short enough for tests (Azure's minimum lease).</summary>
    protected PartitionOptions Options { get; } = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(15),
        LeaseRenewInterval = TimeSpan.FromSeconds(5),
        LeaseSafetyMargin = TimeSpan.FromSeconds(2),
        TransientRetryBudget = TimeSpan.FromSeconds(5),
    };

    public virtual async Task InitializeAsync() => await Store.CreateContainerIfNotExistsAsync(CancellationToken.None);

    public virtual async Task DisposeAsync()
    {
        foreach (var owner in _owners)
        {
            await owner.DisposeAsync();
        }
    }

    /// <summary>Waits for <paramref name="task"/>, letting store time pass if it waits on the clock.</summary>
    protected abstract Task<T> PumpAsync<T>(Task<T> task);

    protected async Task<PartitionOwner> OpenAsync(string node = "node-a", TakeoverMode mode = TakeoverMode.Break, PartitionOptions? options = null)
    {
        var result = await PumpAsync(PartitionOwner.OpenAsync(
            PartitionId,
            Store,
            new OwnerIdentity(node, "r1", "http://" + node),
            options ?? Options,
            mode,
            Time,
            new HybridLogicalClock(Time),
            NullLogger.Instance,
            CancellationToken.None));
        Assert.Equal(OpenStatus.Opened, result.Status);
        _owners.Add(result.Owner!);
        return result.Owner!;
    }

    protected static Task<WriteOutcome> PutAsync(PartitionOwner owner, string key, string value, PreconditionKind precondition = PreconditionKind.None, string? ifMatch = null)
    {
        VersionVector? context = null;
        if (ifMatch is not null)
        {
            Assert.True(VersionVector.TryParseETag(ifMatch, out context));
        }

        return owner.WriteAsync(
            new WriteCommand { Key = key, Value = Encoding.UTF8.GetBytes(value), ContentType = "text/plain", Precondition = precondition, IfMatch = context },
            CancellationToken.None).AsTask();
    }

    protected static Task<WriteOutcome> DeleteAsync(PartitionOwner owner, string key) =>
        owner.WriteAsync(new WriteCommand { Key = key, Kind = WriteKind.Delete }, CancellationToken.None).AsTask();

    protected static string? Read(PartitionOwner owner, string key)
    {
        Assert.True(owner.TryGetState(out var state), "The owner should be serving.");
        var set = state.Get(key);
        if (set is null || set.IsDeleted(ConflictPolicy.Lww))
        {
            return null;
        }

        return Encoding.UTF8.GetString(set.Winner!.Value.Span);
    }

    /// <summary>Writes <paramref name="count"/> keys concurrently; returns the acknowledged key → value.</summary>
    protected static async Task<Dictionary<string, string>> WriteManyAsync(PartitionOwner owner, int count, string prefix = "k")
    {
        var writes = Enumerable.Range(0, count)
            .Select(async i =>
            {
                var key = $"{prefix}{i:D4}";
                var value = $"v-{prefix}-{i}";
                var outcome = await PutAsync(owner, key, value);
                return (key, value, outcome);
            })
            .ToArray();
        var results = await Task.WhenAll(writes);
        return results.Where(r => r.outcome.Status == WriteStatus.Committed).ToDictionary(r => r.key, r => r.value);
    }

    protected static void AssertContains(PartitionOwner owner, IReadOnlyDictionary<string, string> expected)
    {
        foreach (var (key, value) in expected)
        {
            Assert.Equal(value, Read(owner, key));
        }
    }

    protected async Task<PartitionManifest> ReadManifestAsync()
    {
        var download = await Store.DownloadAsync(StorageLayout.Manifest(PartitionId), BlobRange.All, default, CancellationToken.None);
        return System.Text.Json.JsonSerializer.Deserialize<PartitionManifest>(
            download.Content.Span, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
    }
}
