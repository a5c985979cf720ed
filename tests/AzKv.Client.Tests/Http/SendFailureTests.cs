using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AzKv.Client.Tests.Http;

/// <summary>
/// Pins down the platform behaviour behind the rule that a failed send never proves a write did not
/// arrive: SocketsHttpHandler re-sends a request whose reused HTTP/1.1 connection closed before any
/// answer, so a server that read the request and then died looks like "connection refused".
/// </summary>
public sealed class SendFailureTests
{
    [Fact]
    public async Task SocketsHttpHandler_WhenTheServerDiesAfterReadingARequestOnAReusedConnection_ReportsConnectionRefused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var deletesRead = 0;
        var server = Task.Run(async () =>
        {
            // One connection: answer the first request, then read the DELETE and "die": stop listening
            // and reset the connection without a byte of answer.
            using var connection = await listener.AcceptTcpClientAsync();
            var stream = connection.GetStream();
            var buffer = new byte[4096];
            while (true)
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("DELETE", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref deletesRead);
                    listener.Stop();
                    connection.Client.LingerState = new LingerOption(true, 0);
                    connection.Close();
                    return;
                }

                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            }
        });

        using var http = new HttpClient(new SocketsHttpHandler());
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        (await http.GetAsync(new Uri(baseAddress, "first"))).Dispose();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.DeleteAsync(new Uri(baseAddress, "k")));
        await server;

        Assert.Equal(1, deletesRead);
        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
    }
}
