using System.Net;
using System.Net.Sockets;
using System.Text;
using AzKv.Cli.Benchmarking;

namespace AzKv.Cli.Tests.Benchmarking;

/// <summary>
/// The load generator's socket-level HTTP/1.1 client against a loopback listener that answers with
/// canned bytes, written in pieces of every size so each framing is parsed across reads.
/// </summary>
public sealed class RawHttpConnectionTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n", 200, "Length", 5, false)]
    [InlineData("HTTP/1.1 201 Created\r\ncontent-length:0\r\n", 201, "Length", 0, false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", 200, "Chunked", -1, false)]
    [InlineData("HTTP/1.1 204 No Content\r\n", 204, "None", -1, false)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n", 200, "Length", 2, true)]
    [InlineData("HTTP/1.1 500 Internal Server Error\r\n", 500, "ToEnd", -1, true)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n", 200, "Length", 1, true)]
    public void ParseHead_WhenGivenAHead_ReadsStatusFramingAndClose(string head, int status, string framing, long length, bool close)
    {
        var bytes = Encoding.ASCII.GetBytes(head.TrimEnd('\r', '\n'));

        var parsed = RawHttpConnection.ParseHead(bytes);

        Assert.Equal((status, framing, length, close), (parsed.Status, parsed.Framing.ToString(), parsed.Length, parsed.Close));
    }

    [Theory]
    [InlineData("HTTP/1.1 OK\r\n")]
    [InlineData("SSH-2.0-OpenSSH\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: lots\r\n")]
    public void ParseHead_WhenNotAnHttpAnswer_Throws(string head) =>
        Assert.Throws<InvalidDataException>(() => RawHttpConnection.ParseHead(Encoding.ASCII.GetBytes(head.TrimEnd('\r', '\n'))));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public async Task SendAsync_WhenAnswersArriveInPieces_ReadsEachWholeOnOneConnection(int piece)
    {
        string[] answers =
        [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 2\r\n\r\n{}",
        ];
        await using var server = await CannedServer.StartAsync(answers, piece);
        using var connection = new RawHttpConnection(server.Url);
        var body = new byte[64];
        var request = Encoding.ASCII.GetBytes("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");

        var results = new List<(int, string)>();
        foreach (var _ in answers)
        {
            var (status, length) = await connection.SendAsync(request, body);
            results.Add((status, Encoding.ASCII.GetString(body, 0, length)));
        }

        Assert.Equal([(200, "hello"), (200, "abcdefg"), (204, ""), (412, "{}")], results);
        Assert.Equal(1, connection.ConnectionsOpened);
        Assert.Equal(answers.Length, server.RequestsSeen);
    }

    [Fact]
    public async Task SendAsync_WhenTheBodyIsLargerThanTheBuffer_KeepsWhatFitsAndStaysInStep()
    {
        var big = new string('x', 100_000);
        await using var server = await CannedServer.StartAsync([$"HTTP/1.1 200 OK\r\nContent-Length: {big.Length}\r\n\r\n{big}", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"], piece: 4096);
        using var connection = new RawHttpConnection(server.Url);
        var body = new byte[10];
        var request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        var first = await connection.SendAsync(request, body);
        var second = await connection.SendAsync(request, body);

        Assert.Equal((200, 10), first);
        Assert.Equal((200, 2), second);
        Assert.Equal("ok", Encoding.ASCII.GetString(body, 0, 2));
    }

    [Fact]
    public async Task SendAsync_WhenTheServerClosesMidAnswer_ThrowsAndTheNextRequestReconnects()
    {
        await using var server = await CannedServer.StartAsync(["HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"], piece: 1024, closeAfterEach: true);
        using var connection = new RawHttpConnection(server.Url);
        var request = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

        await Assert.ThrowsAsync<IOException>(async () => await connection.SendAsync(request, new byte[64]));
        await Assert.ThrowsAsync<IOException>(async () => await connection.SendAsync(request, new byte[64]));

        Assert.Equal(2, connection.ConnectionsOpened);
    }

    /// <summary>Accepts connections; for each request head it reads, writes the next canned answer in pieces.</summary>
    private sealed class CannedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly string[] _answers;
        private readonly int _piece;
        private readonly bool _closeAfterEach;
        private Task _loop = Task.CompletedTask;
        private int _requests;

        private CannedServer(string[] answers, int piece, bool closeAfterEach)
        {
            _answers = answers;
            _piece = piece;
            _closeAfterEach = closeAfterEach;
        }

        public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

        public int RequestsSeen => Volatile.Read(ref _requests);

        public static Task<CannedServer> StartAsync(string[] answers, int piece, bool closeAfterEach = false)
        {
            var server = new CannedServer(answers, piece, closeAfterEach);
            server._listener.Start();
            server._loop = server.AcceptAsync();
            return Task.FromResult(server);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // stopped
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            var next = 0;
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                client.NoDelay = true;
                var stream = client.GetStream();
                var seen = new StringBuilder();
                var buffer = new byte[1024];
                while (!_stop.IsCancellationRequested)
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    while (seen.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0)
                    {
                        seen.Remove(0, end + 4);
                        Interlocked.Increment(ref _requests);
                        var answer = Encoding.ASCII.GetBytes(_answers[next++ % _answers.Length]);
                        for (var at = 0; at < answer.Length; at += _piece)
                        {
                            await stream.WriteAsync(answer.AsMemory(at, Math.Min(_piece, answer.Length - at)), _stop.Token);
                            await stream.FlushAsync(_stop.Token);
                        }
                    }

                    if (_closeAfterEach)
                    {
                        break;
                    }
                }
            }
        }
    }
}
