using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the load generator, at the socket: it writes a request whose
/// bytes were built once (<see cref="BenchRequests.Raw"/>) and parses the answer's status line and
/// framing (<c>Content-Length</c>, <c>chunked</c>, or to the end for <c>Connection: close</c>). Nothing is
/// allocated per request, so the generator leaves the cores to the servers; both targets are driven by
/// this same code. One request at a time; not thread-safe.
/// </summary>
internal sealed class RawHttpConnection : IDisposable
{
    private const int MaxHead = 16 * 1024;
    private readonly DnsEndPoint _endpoint;
    private readonly byte[] _receive = new byte[64 * 1024];
    private Socket? _socket;
    private int _start;
    private int _end;
    private int _connectionsOpened;

    public RawHttpConnection(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        _endpoint = new DnsEndPoint(url.Host, url.Port);
    }

    /// <summary>TCP connections opened (1 unless the server closed one or a request failed).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    /// <summary>
    /// Sends <paramref name="request"/> and reads the whole answer; the body goes into <paramref name="body"/>
    /// (what does not fit is read and dropped). Returns the status code and the bytes kept. Throws
    /// <see cref="IOException"/> (or a socket error) when the connection fails; the next call reconnects.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(int Status, int BodyLength)> SendAsync(ReadOnlyMemory<byte> request, byte[] body)
    {
        try
        {
            var socket = _socket ?? await ConnectAsync().ConfigureAwait(false);
            while (!request.IsEmpty)
            {
                var sent = await socket.SendAsync(request, SocketFlags.None).ConfigureAwait(false);
                request = request[sent..];
            }

            var (status, framing, length, close) = await ReadHeadAsync().ConfigureAwait(false);
            var kept = framing switch
            {
                Framing.None => 0,
                Framing.Length => await ReadBodyAsync(length, body, 0).ConfigureAwait(false),
                Framing.Chunked => await ReadChunkedAsync(body).ConfigureAwait(false),
                _ => await ReadToEndAsync(body).ConfigureAwait(false),
            };

            if (close)
            {
                Reset();
            }

            return (status, kept);
        }
        catch
        {
            Reset();
            throw;
        }
    }

    /// <summary>Closes the connection (a request in flight fails); the next request opens a new one.</summary>
    public void Reset()
    {
        var socket = Interlocked.Exchange(ref _socket, null);
        socket?.Dispose();
        _start = _end = 0;
    }

    public void Dispose() => Reset();

    /// <summary>Finds the end of the head (<c>\r\n\r\n</c>) in the buffered bytes; -1 when not there yet.</summary>
    internal static int FindHeadEnd(ReadOnlySpan<byte> buffered) => buffered.IndexOf("\r\n\r\n"u8);

    /// <summary>Parses a response head (without its final empty line): status, framing, length, and whether the server closes.</summary>
    internal static (int Status, Framing Framing, long Length, bool Close) ParseHead(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3)
        {
            throw new InvalidDataException("The answer does not start with an HTTP/1.x status line.");
        }

        long length = -1;
        var chunked = false;
        var close = statusLine[7] == (byte)'0'; // HTTP/1.0 closes unless told otherwise
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (name.EqualsIgnoreCase("content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out length, out var digits) || digits != value.Length || length < 0)
                {
                    throw new InvalidDataException("The answer's Content-Length is not a number.");
                }
            }
            else if (name.EqualsIgnoreCase("transfer-encoding"u8))
            {
                chunked = value.ContainsIgnoreCase("chunked"u8);
            }
            else if (name.EqualsIgnoreCase("connection"u8))
            {
                close = value.ContainsIgnoreCase("close"u8) || (close && !value.ContainsIgnoreCase("keep-alive"u8));
            }
        }

        var framing = status is (>= 100 and < 200) or 204 or 304 ? Framing.None
            : chunked ? Framing.Chunked
            : length >= 0 ? Framing.Length
            : Framing.ToEnd;
        return (status, framing, length, close || framing == Framing.ToEnd);
    }

    private async ValueTask<Socket> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endpoint).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Interlocked.Increment(ref _connectionsOpened);
        _start = _end = 0;
        _socket = socket;
        return socket;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(int Status, Framing Framing, long Length, bool Close)> ReadHeadAsync()
    {
        while (true)
        {
            var at = FindHeadEnd(_receive.AsSpan(_start, _end - _start));
            if (at >= 0)
            {
                var head = ParseHead(_receive.AsSpan(_start, at));
                _start += at + 4;
                return head;
            }

            if (_end - _start >= MaxHead)
            {
                throw new InvalidDataException($"The answer's head is over {MaxHead} bytes.");
            }

            await FillAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads <paramref name="length"/> body bytes, keeping them in <paramref name="body"/> from <paramref name="kept"/>; returns the bytes kept in all.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadBodyAsync(long length, byte[] body, int kept)
    {
        while (length > 0)
        {
            if (_start == _end)
            {
                await FillAsync().ConfigureAwait(false);
            }

            var take = (int)Math.Min(length, _end - _start);
            var keep = Math.Min(take, body.Length - kept);
            _receive.AsSpan(_start, keep).CopyTo(body.AsSpan(kept));
            kept += keep;
            _start += take;
            length -= take;
        }

        return kept;
    }

    private async ValueTask<int> ReadChunkedAsync(byte[] body)
    {
        var kept = 0;
        while (true)
        {
            var line = await ReadLineAsync().ConfigureAwait(false);
            var semicolon = line.Span.IndexOf((byte)';');
            var digits = semicolon < 0 ? line.Span : line.Span[..semicolon];
            if (!Utf8Parser.TryParse(digits.Trim((byte)' '), out long size, out var used, 'x') || used != digits.Trim((byte)' ').Length)
            {
                throw new InvalidDataException("A chunk size is not hexadecimal.");
            }

            if (size == 0)
            {
                // Trailers, up to the empty line.
                while ((await ReadLineAsync().ConfigureAwait(false)).Length > 0)
                {
                }

                return kept;
            }

            kept = await ReadBodyAsync(size, body, kept).ConfigureAwait(false);
            if ((await ReadLineAsync().ConfigureAwait(false)).Length != 0)
            {
                throw new InvalidDataException("A chunk does not end with CRLF.");
            }
        }
    }

    private async ValueTask<int> ReadToEndAsync(byte[] body)
    {
        var kept = 0;
        while (true)
        {
            var keep = Math.Min(_end - _start, body.Length - kept);
            _receive.AsSpan(_start, keep).CopyTo(body.AsSpan(kept));
            kept += keep;
            _start = _end;
            if (!await TryFillAsync().ConfigureAwait(false))
            {
                return kept;
            }
        }
    }

    /// <summary>The next line without its CRLF (valid until the next read).</summary>
    private async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync()
    {
        while (true)
        {
            var at = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (at >= 0)
            {
                var line = _receive.AsMemory(_start, at);
                _start += at + 2;
                return line;
            }

            if (_end - _start >= MaxHead)
            {
                throw new InvalidDataException($"A line of the answer is over {MaxHead} bytes.");
            }

            await FillAsync().ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync()
    {
        if (!await TryFillAsync().ConfigureAwait(false))
        {
            throw new IOException("The server closed the connection in the middle of an answer.");
        }
    }

    /// <summary>Reads more bytes after the unread ones; false at the end of the stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TryFillAsync()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _receive.Length)
        {
            Buffer.BlockCopy(_receive, _start, _receive, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var socket = _socket ?? throw new IOException("The connection was closed.");
        var read = await socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None).ConfigureAwait(false);
        _end += read;
        return read > 0;
    }

    /// <summary>How the body of an answer is delimited.</summary>
    internal enum Framing
    {
        /// <summary>No body (1xx, 204, 304).</summary>
        None,

        /// <summary><c>Content-Length</c>.</summary>
        Length,

        /// <summary><c>Transfer-Encoding: chunked</c>.</summary>
        Chunked,

        /// <summary>Neither: the body ends when the server closes.</summary>
        ToEnd,
    }
}

/// <summary>Case-insensitive ASCII comparisons of header bytes.</summary>
internal static class AsciiBytes
{
    public static bool EqualsIgnoreCase(this ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase) =>
        System.Text.Ascii.EqualsIgnoreCase(text, lowerCase);

    public static bool ContainsIgnoreCase(this ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase)
    {
        for (var i = 0; i + lowerCase.Length <= text.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(text.Slice(i, lowerCase.Length), lowerCase))
            {
                return true;
            }
        }

        return false;
    }
}
