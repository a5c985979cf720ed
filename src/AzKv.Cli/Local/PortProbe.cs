using System.Net;
using System.Net.Sockets;

namespace AzKv.Cli.Local;

/// <summary>Checks that a loopback port can be listened on, before anything is started.</summary>
internal static class PortProbe
{
    /// <summary>True when nothing listens on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool IsFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (!OperatingSystem.IsWindows())
        {
            // As a server would: connections of a previous run in TIME_WAIT do not block the port.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }

        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
