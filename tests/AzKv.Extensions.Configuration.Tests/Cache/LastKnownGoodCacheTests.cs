using System.Text;
using AzKv.Extensions.Configuration.Cache;
using AzKv.Extensions.Configuration.Mapping;
using AzKv.Extensions.Configuration.Tests.Support;
using AzKv.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Cache;

public sealed class LastKnownGoodCacheTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TryReadAsync_WhenACopyWasWritten_ReturnsEveryItemAndWhenItWasSaved()
    {
        var cache = Create("selection-a");
        StoredItem[] items = [new("a/x", "text/plain", Encoding.UTF8.GetBytes("1")), new("a/bin", "application/octet-stream", [0, 255, 7])];

        await cache.WriteAsync(items, CancellationToken.None);
        var read = await cache.TryReadAsync(CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(ManualTimeProvider.DefaultStartTime, read.Value.SavedAt);
        Assert.Equal(["a/bin", "a/x"], read.Value.Items.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new byte[] { 0, 255, 7 }, read.Value.Items["a/bin"].Value);
        Assert.Equal("text/plain", read.Value.Items["a/x"].ContentType);
    }

    [Fact]
    public async Task WriteAsync_WhenItReplacesACopy_LeavesOnlyTheNewFileAndNoTempFile()
    {
        var cache = Create("selection-a");

        await cache.WriteAsync([new StoredItem("k", "text/plain", [1])], CancellationToken.None);
        await cache.WriteAsync([new StoredItem("k", "text/plain", [2])], CancellationToken.None);

        Assert.Equal([cache.FilePath], Directory.GetFiles(_directory.Path));
        var read = await cache.TryReadAsync(CancellationToken.None);
        Assert.Equal(new byte[] { 2 }, read!.Value.Items["k"].Value);
    }

    [Fact]
    public async Task WriteAsync_WhenOnUnix_MakesTheFileReadableByTheUserOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only; Windows keeps the profile folder's ACL.
        }

        var cache = Create("selection-a");

        await cache.WriteAsync([new StoredItem("k", "text/plain", [1])], CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cache.FilePath));
    }

    [Fact]
    public async Task TryReadAsync_WhenThereIsNoCopy_ReturnsNull()
    {
        Assert.Null(await Create("selection-a").TryReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TryReadAsync_WhenTheFileIsCorrupt_ReturnsNull()
    {
        var cache = Create("selection-a");
        await File.WriteAllTextAsync(cache.FilePath, "{\"version\":1,\"items\":[{\"key\":");

        Assert.Null(await cache.TryReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TryReadAsync_WhenTheFileHoldsAnotherSelection_ReturnsNull()
    {
        var a = Create("selection-a");
        await a.WriteAsync([new StoredItem("k", "text/plain", [1])], CancellationToken.None);
        var b = Create("selection-b");
        File.Copy(a.FilePath, b.FilePath);

        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Null(await b.TryReadAsync(CancellationToken.None));
    }

    private LastKnownGoodCache Create(string selection) => new(_directory.Path, selection, _clock, NullLogger.Instance);
}
