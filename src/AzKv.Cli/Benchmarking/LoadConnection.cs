using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// One keep-alive HTTP/1.1 connection of the load generator with one request in flight: a
/// <see cref="RawHttpConnection"/> sending pre-built requests, so N of these are N real TCP
/// connections (counted in <see cref="ConnectionsOpened"/>; a reconnect shows up there) and the
/// generator allocates next to nothing per request, for either target.
/// Records latency into its own histogram; nothing is shared between connections but counters
/// read by the progress line.
/// </summary>
internal sealed class LoadConnection : IDisposable
{
    private readonly RawHttpConnection _http;
    private readonly BenchRequests _requests;
    private readonly byte[] _buffer;
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Random _random;
    private long _completed;
    private long _failed;
    private volatile bool _aborted;

    public LoadConnection(BenchRequests requests, Uri url, int seed)
    {
        _requests = requests;
        _random = new Random(seed);

        // Room for the largest answer expected: a value, base64 in etcd's JSON (4/3), and headers of JSON.
        _buffer = new byte[Math.Max(64 * 1024, (requests.Value.Length * 2) + 4096)];
        _http = new RawHttpConnection(url);
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
    public int ConnectionsOpened => _http.ConnectionsOpened;

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

    public void Dispose() => _http.Dispose();

    /// <summary>Ends the request in flight (the connection is closed) and stops the loops; for stuck servers and Ctrl-C.</summary>
    public void Abort()
    {
        _aborted = true;
        _http.Reset();
    }

    /// <summary>One request and its whole answer; null on success, else the reason it failed.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<string?> ExecuteAsync(BenchOperation operation, int key)
    {
        try
        {
            var (status, length) = await _http.SendAsync(_requests.Raw(operation, key), _buffer).ConfigureAwait(false);
            return _requests.Check(operation, (HttpStatusCode)status, _buffer.AsSpan(0, length));
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException or ObjectDisposedException)
        {
            return _aborted ? "aborted" : "connection: " + (ex is SocketException socket ? socket.SocketErrorCode.ToString() : ex.Message);
        }
    }
}
