using System.Text;
using AzKv.Server.Audit;
using AzKv.Storage;
using AzKv.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Server.Tests.Audit;

public sealed class AuditLogTests
{
    [Fact]
    public async Task DisposeAsync_WhenCalledTwice_FlushesTheBufferOnceAndDoesNotThrow()
    {
        // The host stops the log and the container disposes it: a graceful stop used to exit with 1.
        var time = new ManualTimeProvider();
        var store = new InMemoryBlobStore(timeProvider: time);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        var log = new AuditLog(store, time, NullLogger<AuditLog>.Instance, "node-a", TimeSpan.FromDays(7));
        log.Record("alice", null, "put", "app/color", AuditOutcomes.Created);

        await log.DisposeAsync();
        await log.DisposeAsync();

        var blobs = await store.ListAsync(AuditLog.Prefix, null, 100, CancellationToken.None);
        var blob = Assert.Single(blobs.Items);
        var content = await store.DownloadAsync(blob.Name, BlobRange.All, default, CancellationToken.None);
        var line = Assert.Single(Encoding.UTF8.GetString(content.Content.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"key\":\"app/color\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Record_WhenTheFlushIntervalPasses_IsAppendedByTheBackgroundLoop()
    {
        var time = new ManualTimeProvider();
        var store = new InMemoryBlobStore(timeProvider: time);
        await store.CreateContainerIfNotExistsAsync(CancellationToken.None);
        await using var log = new AuditLog(store, time, NullLogger<AuditLog>.Instance, "node-a", TimeSpan.FromDays(7));
        log.Record("alice", null, "put", "app/color", AuditOutcomes.Created);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await store.ListAsync(AuditLog.Prefix, null, 100, CancellationToken.None)).Items.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the loop did not append in time");
            time.Advance(AuditLog.FlushInterval);
            await Task.Delay(20);
        }

        Assert.Single((await store.ListAsync(AuditLog.Prefix, null, 100, CancellationToken.None)).Items);
    }
}
