using System.Buffers.Text;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// The receiving half of one <c>azkv bench watch</c> watcher, kept cheap because 10,000 of them run
/// in one process: it takes the bytes of an HTTP/1.1 response body as they arrive (de-chunking
/// <c>Transfer-Encoding: chunked</c> when told to), splits them into lines and, in each line,
/// finds every <c>"key":"…"</c> whose key starts with the run's marker and reports the sequence
/// number that follows the marker. AzKv's SSE carries keys as JSON strings; etcd's v3 gateway
/// carries them base64-encoded (<paramref name="base64Keys"/>). For SSE it also remembers the last
/// <c>id:</c> line, the cursor to resume from after the server closed the stream.
/// </summary>
internal sealed class WatchStreamParser
{
    private static ReadOnlySpan<byte> KeyField => "\"key\":\""u8;

    private static ReadOnlySpan<byte> IdField => "id: "u8;

    private readonly byte[] _marker;
    private readonly bool _base64Keys;
    private readonly bool _chunked;
    private ChunkState _state = ChunkState.Size;
    private long _chunkLeft;
    private byte[] _line = new byte[256];
    private int _lineLength;
    private readonly byte[] _decoded = new byte[1024];
    private byte[] _lastId = [];
    private int _lastIdLength;

    public WatchStreamParser(ReadOnlySpan<byte> marker, bool base64Keys, bool chunked)
    {
        _marker = marker.ToArray();
        _base64Keys = base64Keys;
        _chunked = chunked;
    }

    private enum ChunkState
    {
        Size,
        SizeLineEnd,
        Data,
        DataEnd,
        Done,
    }

    /// <summary>The last SSE <c>id:</c> seen (empty before any).</summary>
    public string LastId => System.Text.Encoding.ASCII.GetString(_lastId, 0, _lastIdLength);

    /// <summary>True when the body is chunked (so its end is a zero-length chunk, not the connection closing).</summary>
    public bool Chunked => _chunked;

    /// <summary>True once a line held <c>"created":true</c> (etcd's answer that the watch exists).</summary>
    public bool SawCreated { get; private set; }

    /// <summary>True once the final (zero-length) chunk arrived: the server ended the response.</summary>
    public bool Ended => _state == ChunkState.Done;

    /// <summary>Consumes body bytes; calls <paramref name="onSequence"/> for every marked key, in order.</summary>
    public void Consume(ReadOnlySpan<byte> bytes, Action<long> onSequence)
    {
        if (!_chunked)
        {
            Lines(bytes, onSequence);
            return;
        }

        while (!bytes.IsEmpty && _state != ChunkState.Done)
        {
            switch (_state)
            {
                case ChunkState.Size:
                    {
                        var b = bytes[0];
                        bytes = bytes[1..];
                        var digit = HexDigit(b);
                        if (digit >= 0)
                        {
                            _chunkLeft = (_chunkLeft * 16) + digit;
                        }
                        else if (b == (byte)'\n')
                        {
                            _state = _chunkLeft == 0 ? ChunkState.Done : ChunkState.Data;
                        }
                        else
                        {
                            // '\r' or a chunk extension: skip to the end of the line.
                            _state = ChunkState.SizeLineEnd;
                        }

                        break;
                    }

                case ChunkState.SizeLineEnd:
                    {
                        var end = bytes.IndexOf((byte)'\n');
                        if (end < 0)
                        {
                            return;
                        }

                        bytes = bytes[(end + 1)..];
                        _state = _chunkLeft == 0 ? ChunkState.Done : ChunkState.Data;
                        break;
                    }

                case ChunkState.Data:
                    {
                        var take = (int)Math.Min(_chunkLeft, bytes.Length);
                        Lines(bytes[..take], onSequence);
                        bytes = bytes[take..];
                        _chunkLeft -= take;
                        if (_chunkLeft == 0)
                        {
                            _state = ChunkState.DataEnd;
                        }

                        break;
                    }

                case ChunkState.DataEnd:
                    {
                        // The CRLF after the chunk's data.
                        var end = bytes.IndexOf((byte)'\n');
                        if (end < 0)
                        {
                            return;
                        }

                        bytes = bytes[(end + 1)..];
                        _state = ChunkState.Size;
                        break;
                    }

                default:
                    return;
            }
        }
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private void Lines(ReadOnlySpan<byte> bytes, Action<long> onSequence)
    {
        while (!bytes.IsEmpty)
        {
            var end = bytes.IndexOf((byte)'\n');
            if (end < 0)
            {
                Append(bytes);
                return;
            }

            if (_lineLength == 0)
            {
                Line(bytes[..end], onSequence);
            }
            else
            {
                Append(bytes[..end]);
                Line(_line.AsSpan(0, _lineLength), onSequence);
                _lineLength = 0;
            }

            bytes = bytes[(end + 1)..];
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_lineLength + bytes.Length > _line.Length)
        {
            Array.Resize(ref _line, Math.Max(_line.Length * 2, _lineLength + bytes.Length));
        }

        bytes.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += bytes.Length;
    }

    private void Line(ReadOnlySpan<byte> line, Action<long> onSequence)
    {
        if (line.StartsWith(IdField))
        {
            var id = line[IdField.Length..].TrimEnd((byte)'\r');
            if (_lastId.Length < id.Length)
            {
                _lastId = new byte[Math.Max(id.Length, 64)];
            }

            id.CopyTo(_lastId);
            _lastIdLength = id.Length;
            return;
        }

        if (!SawCreated && line.IndexOf("\"created\":true"u8) >= 0)
        {
            SawCreated = true;
        }

        while (true)
        {
            var at = line.IndexOf(KeyField);
            if (at < 0)
            {
                return;
            }

            line = line[(at + KeyField.Length)..];
            var close = line.IndexOf((byte)'"');
            if (close < 0)
            {
                return;
            }

            var key = line[..close];
            line = line[(close + 1)..];
            if (_base64Keys)
            {
                if (Base64.GetMaxDecodedFromUtf8Length(key.Length) > _decoded.Length
                    || Base64.DecodeFromUtf8(key, _decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
                {
                    continue;
                }

                key = _decoded.AsSpan(0, written);
            }

            if (key.StartsWith(_marker)
                && Utf8Parser.TryParse(key[_marker.Length..], out long sequence, out var consumed)
                && consumed == key.Length - _marker.Length)
            {
                onSequence(sequence);
            }
        }
    }
}
