using System.Net;
using System.Net.Sockets;
using AzKv.Cli.Local;

namespace AzKv.Cli.Tests.Local;

public sealed class PortProbeTests
{
    [Fact]
    public void IsFree_WhenAListenerHoldsThePort_ReturnsFalse()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();

        Assert.False(PortProbe.IsFree(((IPEndPoint)listener.LocalEndpoint).Port));
    }

    [Fact]
    public void IsFree_WhenNothingListens_ReturnsTrue()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        Assert.True(PortProbe.IsFree(port));
    }
}
