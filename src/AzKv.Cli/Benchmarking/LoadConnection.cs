using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the load generator with one request in flight: its own
/// <see cref="HttpClient"/> whose handler may open a single connection, so N of these are N real
/// TCP connections (counted in <see cref="ConnectionsOpened"/>; a reconnect shows up there).
/// Records latency into its own histogram; nothing is shared between connections but counters
/// read by the progress line.
/// </summary>
internal sealed class LoadConnection : IDisposable
{
    private readonly HttpClient _client;
    private readonly BenchRequests _requests;
    private readonly MediaTypeHeaderValue _contentType;
    private readonly byte[] _buffer;
    private readonly byte[] _overflow = new byte[4096];
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Random _random;
    private long _completed;
    private long _failed;
    private int _connectionsOpened;
    private volatile bool _aborted;

    public LoadConnection(BenchRequests requests, int seed)
    {
        _requests = requests;
        _contentType = requests.CreateContentType();
        _random = new Random(seed);

        // Room for the largest answer expected: a value, base64 in etcd's JSON (4/3), and headers of JSON.
        _buffer = new byte[Math.Max(64 * 1024, (requests.Value.Length * 2) + 4096)];
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = ConnectAsync,
        };

        // No timeout and no cancellation token per request: either makes HttpClient create a
        // linked CancellationTokenSource and a timer for every request, which costs the generator
        // CPU that the servers need. A stuck request is ended by Abort (the runner's watchdog, Ctrl-C).
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (requests.BearerToken is { } token)
        {
            _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>Latency of successful operations during the measured time, in microseconds.</summary>
    public LatencyHistogram Histogram { get; } = new();

    /// <summary>Successful operations since the last <see cref="ResetCounters"/> (read by the progress line).</summary>
    public long Completed => Volatile.Read(ref _completed);

    /// <summary>Failed operations since the last <see cref="ResetCounters"/>.</summary>
    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Successful gets during the measured time.</summary>
    public long Gets { get; private set; }

    /// <summary>Successful puts during the measured time.</summary>
    public long Puts { get; private set; }

    /// <summary>TCP connections this client opened (1 unless the server closed one).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    /// <summary>Failures during the measured time, by reason.</summary>
    public IReadOnlyDictionary<string, long> Errors => _errors;

    /// <summary>Why the connection gave up early, if it did.</summary>
    public string? StoppedBecause { get; private set; }

    /// <summary>Puts keys <paramref name="first"/>, first + step, … once each (not measured).</summary>
    public async Task PreloadAsync(int first, int step, int keys, CancellationToken cancellationToken)
    {
        for (var key = first; key < keys && !_aborted && !cancellationToken.IsCancellationRequested; key += step)
        {
            var error = await ExecuteAsync(BenchOperation.Put, key).ConfigureAwait(false);
            if (error is not null)
            {
                Interlocked.Increment(ref _failed);
                _errors[error] = _errors.GetValueOrDefault(error) + 1;
            }
            else
            {
                Interlocked.Increment(ref _completed);
            }
        }
    }

    /// <summary>
    /// Sends operations back to back until <paramref name="clock"/> says stop; records those that
    /// complete inside the measured window.
    /// </summary>
    public async Task RunAsync(BenchWorkload workload, int keys, RunClock clock, CancellationToken cancellationToken)
    {
        var consecutiveFailures = 0;
        while (!_aborted && !cancellationToken.IsCancellationRequested)
        {
            var operation = workload switch
            {
                BenchWorkload.Put => BenchOperation.Put,
                BenchWorkload.Get => BenchOperation.Get,
                BenchWorkload.Ceiling => BenchOperation.Health,
                _ => _random.Next(100) < HttpBenchSettings.MixedGetPercent ? BenchOperation.Get : BenchOperation.Put,
            };
            var key = _random.Next(keys);
            var started = Stopwatch.GetTimestamp();
            var error = await ExecuteAsync(operation, key).ConfigureAwait(false);
            var ended = Stopwatch.GetTimestamp();
            var phase = clock.PhaseAt(ended);
            if (phase == RunPhase.Done)
            {
                return;
            }

            var measured = phase == RunPhase.Measure && clock.PhaseAt(started) == RunPhase.Measure;
            if (error is null)
            {
                consecutiveFailures = 0;
                Interlocked.Increment(ref _completed);
                if (measured)
                {
                    Histogram.Record((ended - started) * 1_000_000 / Stopwatch.Frequency);
                    if (operation == BenchOperation.Put)
                    {
                        Puts++;
                    }
                    else
                    {
                        Gets++;
                    }
                }
            }
            else
            {
                Interlocked.Increment(ref _failed);
                if (measured)
                {
                    _errors[error] = _errors.GetValueOrDefault(error) + 1;
                }

                if (++consecutiveFailures >= 1000)
                {
                    StoppedBecause = "1000 failures in a row, the last: " + error;
                    return;
                }
            }
        }
    }

    /// <summary>Starts counting again (after the preload).</summary>
    public void ResetCounters()
    {
        Volatile.Write(ref _completed, 0);
        Volatile.Write(ref _failed, 0);
        _errors.Clear();
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Ends the request in flight (the connection is closed) and stops the loops; for stuck servers and Ctrl-C.</summary>
    public void Abort()
    {
        _aborted = true;
        _client.Dispose();
    }

    /// <summary>One request and its whole answer; null on success, else the reason it failed.</summary>
    private async Task<string?> ExecuteAsync(BenchOperation operation, int key)
    {
        try
        {
            using var request = _requests.Create(operation, key, _contentType);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            var length = await ReadBodyAsync(response).ConfigureAwait(false);
            return _requests.Check(operation, response.StatusCode, _buffer.AsSpan(0, length));
        }
        catch (HttpRequestException ex)
        {
            return _aborted ? "aborted" : "connection: " + (ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString());
        }
        catch (IOException ex)
        {
            return _aborted ? "aborted" : "connection: " + ex.Message;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException && _aborted)
        {
            return "aborted";
        }
    }

    /// <summary>Reads the body into the connection's buffer (whatever does not fit is read and dropped); returns the bytes kept.</summary>
    private async Task<int> ReadBodyAsync(HttpResponseMessage response)
    {
        var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var kept = 0;
            while (kept < _buffer.Length)
            {
                var read = await stream.ReadAsync(_buffer.AsMemory(kept)).ConfigureAwait(false);
                if (read == 0)
                {
                    return kept;
                }

                kept += read;
            }

            while (await stream.ReadAsync(_overflow).ConfigureAwait(false) > 0)
            {
                // An answer larger than the buffer: drained, not kept.
            }

            return kept;
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _connectionsOpened);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
