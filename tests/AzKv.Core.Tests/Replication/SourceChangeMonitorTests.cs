using AzKv.Replication;
using AzKv.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Core.Tests.Replication;

public sealed class SourceChangeMonitorTests
{
    [Fact]
    public async Task DisposeAsync_WhenCalledTwice_DoesNotThrow()
    {
        // The second dispose used to cancel an already disposed token source (ObjectDisposedException).
        var time = new ManualTimeProvider();
        var monitor = new SourceChangeMonitor("a", new InMemoryBlobStore(), TimeSpan.FromSeconds(1), time, NullLogger.Instance);
        monitor.Start();

        await monitor.DisposeAsync();
        await monitor.DisposeAsync();

        Assert.Equal(0, monitor.VersionOf(0));
    }
}
