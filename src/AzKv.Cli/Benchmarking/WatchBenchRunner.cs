using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// <c>azkv bench watch</c>: opens W watch streams (one TCP connection each, raw sockets, a 4 KiB
/// receive buffer and a small parser per stream, no HTTP client stack), then writes keys under
/// the watched prefix at a fixed rate and measures, for every (watcher, write) pair, the time from
/// just before the write was sent to the moment the watcher's socket returned the event. AzKv is
/// watched over SSE (<c>GET /v1/watch</c>, <c>Accept: text/event-stream</c>), etcd over its v3 JSON
/// gateway (<c>POST /v3/watch</c>, a prefix range). The key names the write's sequence number, so
/// the same clock and the same send-timestamp table serve both targets (AzKv's events do not carry
/// values; the value holds the send time anyway, as text, for a reader's eye).
/// </summary>
internal static class WatchBenchRunner
{
    private const int Stripes = 32;
    private const int ConnectConcurrency = 128;

    public static async Task<WatchBenchResult> RunAsync(WatchBenchSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var keyPrefix = settings.Prefix + runId + "/";
        var warmupWrites = (int)Math.Round(settings.Rate * settings.Warmup.TotalSeconds);
        var totalWrites = warmupWrites + (int)Math.Round(settings.Rate * settings.Duration.TotalSeconds);
        var shared = new Shared(Encoding.UTF8.GetBytes(keyPrefix), settings.Target, warmupWrites, totalWrites);

        var address = await ResolveAsync(settings.Url, cancellationToken).ConfigureAwait(false);
        var endpoint = new IPEndPoint(address, settings.Url.Port);
        var host = settings.Url.Authority;
        var watchers = new Watcher[settings.Watchers];
        for (var i = 0; i < watchers.Length; i++)
        {
            var source = settings.SourceAddresses > 1 && IPAddress.IsLoopback(address) && address.AddressFamily == AddressFamily.InterNetwork
                ? new IPAddress([127, 0, 0, (byte)(1 + (i % settings.SourceAddresses))])
                : null;
            watchers[i] = new Watcher(i, shared, endpoint, source, host, settings.Prefix);
        }

        using var server = settings.ServerPid is { } pid ? ServerProcess.TryOpen(pid) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = server is null ? Task.CompletedTask : server.SampleAsync(stop.Token);

        // Open every stream, a bounded number of handshakes at a time (the listen backlog is finite).
        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"bench watch: opening {settings.Watchers} watch streams to {settings.Url} ({Name(settings.Target)})")).ConfigureAwait(false);
        var connectStart = Stopwatch.GetTimestamp();
        var gate = new SemaphoreSlim(ConnectConcurrency);
        var runs = new Task[watchers.Length];
        for (var i = 0; i < watchers.Length; i++)
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            runs[i] = watchers[i].RunAsync(gate, stop.Token);
        }

        for (var i = 0; i < ConnectConcurrency; i++)
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
        var connected = watchers.Count(w => w.Ready);
        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"bench watch: {connected} of {settings.Watchers} streams open after {connectSeconds:0.0} s")).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        var rssIdle = server?.RssMiB();

        // The writer: a put every 1/rate seconds on its own schedule (a slow put does not delay the next).
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32, UseProxy = false }) { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(30) };
        var cpuStart = server?.CpuSeconds();
        var ownCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var writeStart = Stopwatch.GetTimestamp();
        var puts = new Task<bool>[totalWrites];
        var putLatency = new LatencyHistogram();
        for (var i = 0; i < totalWrites; i++)
        {
            var due = writeStart + (long)(i / settings.Rate * Stopwatch.Frequency);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
            }

            puts[i] = PutAsync(http, settings, shared, keyPrefix, i, i >= warmupWrites ? putLatency : null, cancellationToken);
            if (i > 0 && i % (int)Math.Max(1, settings.Rate) == 0)
            {
                await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {i} writes, {shared.Received} deliveries of measured writes")).ConfigureAwait(false);
            }
        }

        var acknowledged = await Task.WhenAll(puts).ConfigureAwait(false);
        var acknowledgedAll = acknowledged.Count(ok => ok);
        var writes = acknowledged.Skip(warmupWrites).Count(ok => ok);
        var writeErrors = acknowledged.Count(ok => !ok);

        // Settle: until every open watcher has the last write, or the settle time is over.
        var settleEnd = Stopwatch.GetTimestamp() + (long)(settings.Settle.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < settleEnd && !Array.TrueForAll(watchers, w => !w.Ready || w.Failed || w.ReceivedAll >= acknowledgedAll))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        var window = Stopwatch.GetElapsedTime(writeStart).TotalSeconds;
        var cpuEnd = server?.CpuSeconds();
        var ownCpu = (Process.GetCurrentProcess().TotalProcessorTime - ownCpuStart).TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        foreach (var watcher in watchers)
        {
            watcher.Close();
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
        await sampler.ConfigureAwait(false);

        var histogram = shared.Merged();
        var expected = (long)connected * writes;
        var received = watchers.Where(w => w.Ready).Sum(w => w.ReceivedMeasured);
        var failures = watchers.Where(w => w.Failure is not null).GroupBy(w => w.Failure!).OrderByDescending(g => g.Count()).Take(5).ToDictionary(g => g.Key, g => g.Count());
        return new WatchBenchResult
        {
            Target = Name(settings.Target),
            Url = settings.Url.ToString(),
            WatchersRequested = settings.Watchers,
            Watchers = connected,
            ConnectSeconds = Math.Round(connectSeconds, 2),
            Rate = settings.Rate,
            Seconds = settings.Duration.TotalSeconds,
            WarmupSeconds = settings.Warmup.TotalSeconds,
            Writes = writes,
            WriteErrors = writeErrors,
            Expected = expected,
            Received = received,
            Delivered = expected == 0 ? 0 : Math.Round((double)received / expected, 6),
            Reconnects = watchers.Sum(w => (long)w.Reconnects),
            WatcherFailures = watchers.Count(w => w.Failed || !w.Ready),
            P50Ms = Ms(histogram.ValueAtPercentile(50)),
            P90Ms = Ms(histogram.ValueAtPercentile(90)),
            P99Ms = Ms(histogram.ValueAtPercentile(99)),
            P999Ms = Ms(histogram.ValueAtPercentile(99.9)),
            MaxMs = Ms(histogram.Max),
            MeanMs = Math.Round(histogram.Mean / 1000, 3),
            PutP50Ms = Ms(putLatency.ValueAtPercentile(50)),
            PutP99Ms = Ms(putLatency.ValueAtPercentile(99)),
            RssIdleMiB = rssIdle,
            RssMiB = server?.MaxRssMiB,
            CpuSeconds = cpuStart is { } a && cpuEnd is { } b ? Math.Round(b - a, 2) : null,
            CpuPercent = cpuStart is { } c && cpuEnd is { } d ? Math.Round((d - c) / window * 100, 1) : null,
            GeneratorCpuPercent = Math.Round(ownCpu / window * 100, 1),
            Cores = Environment.ProcessorCount,
            Failures = failures.Count > 0 ? failures : null,
        };
    }

    private static double Ms(long microseconds) => Math.Round(microseconds / 1000.0, 3);

    private static string Name(BenchTarget target) => HttpBenchSettings.Name(target);

    private static async Task<IPAddress> ResolveAsync(Uri url, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(url.Host, out var literal))
        {
            return literal;
        }

        var addresses = await Dns.GetHostAddressesAsync(url.Host, cancellationToken).ConfigureAwait(false);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
    }

    private static async Task<bool> PutAsync(
        HttpClient http, WatchBenchSettings settings, Shared shared, string keyPrefix, int sequence, LatencyHistogram? acknowledged, CancellationToken cancellationToken)
    {
        var key = keyPrefix + sequence.ToString(CultureInfo.InvariantCulture);
        var sent = Stopwatch.GetTimestamp();
        var stamp = "sent=" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + ";";
        var value = Encoding.ASCII.GetBytes(stamp.PadRight(Math.Max(settings.ValueBytes, stamp.Length), 'x'));
        var content = new ByteArrayContent(settings.Target == BenchTarget.Etcd ? EtcdJson.EncodePut(Encoding.UTF8.GetBytes(key), value) : value);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(settings.Target == BenchTarget.Etcd ? "application/json" : "text/plain");
        using var request = settings.Target == BenchTarget.Etcd
            ? new HttpRequestMessage(HttpMethod.Post, EtcdJson.PutPath) { Content = content }
            : new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = content };
        shared.MarkSent(sequence, sent);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (acknowledged is not null && response.IsSuccessStatusCode)
            {
                lock (acknowledged)
                {
                    acknowledged.Record(Stopwatch.GetElapsedTime(sent).Ticks / 10);
                }
            }

            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>What every watcher shares: the send times and the striped latency histograms.</summary>
    private sealed class Shared
    {
        private readonly long[] _sent;
        private readonly LatencyHistogram[] _histograms;
        private long _received;

        public Shared(byte[] marker, BenchTarget target, int warmupWrites, int totalWrites)
        {
            Marker = marker;
            Target = target;
            WarmupWrites = warmupWrites;
            TotalWrites = totalWrites;
            _sent = new long[totalWrites];
            _histograms = Enumerable.Range(0, Stripes).Select(_ => new LatencyHistogram()).ToArray();
        }

        public byte[] Marker { get; }

        public BenchTarget Target { get; }

        public int WarmupWrites { get; }

        public int TotalWrites { get; }

        public long Received => Interlocked.Read(ref _received);

        public void MarkSent(int sequence, long timestamp) => Volatile.Write(ref _sent[sequence], timestamp);

        /// <summary>Records one delivery of a measured write; false when the sequence is not one we sent.</summary>
        public bool Record(int stripe, long sequence, long receivedAt)
        {
            if (sequence < 0 || sequence >= TotalWrites)
            {
                return false;
            }

            var sent = Volatile.Read(ref _sent[sequence]);
            if (sent == 0 || sequence < WarmupWrites)
            {
                return sent != 0;
            }

            var micros = (receivedAt - sent) * 1_000_000 / Stopwatch.Frequency;
            var histogram = _histograms[stripe % Stripes];
            lock (histogram)
            {
                histogram.Record(micros);
            }

            Interlocked.Increment(ref _received);
            return true;
        }

        public LatencyHistogram Merged()
        {
            var merged = new LatencyHistogram();
            foreach (var h in _histograms)
            {
                lock (h)
                {
                    merged.Add(h);
                }
            }

            return merged;
        }
    }

    /// <summary>One watch stream: a socket, a 4 KiB buffer, a parser; resumes from its last SSE id when the server ends the stream.</summary>
    private sealed class Watcher
    {
        private readonly int _index;
        private readonly Shared _shared;
        private readonly IPEndPoint _server;
        private readonly IPAddress? _source;
        private readonly string _host;
        private readonly string _prefix;
        private readonly byte[] _buffer = new byte[4096];
        private readonly Action<long> _onSequence;
        private Socket? _socket;
        private long _receivedAt;
        private volatile bool _closing;
        private ulong[]? _seen;

        public Watcher(int index, Shared shared, IPEndPoint server, IPAddress? source, string host, string prefix)
        {
            _index = index;
            _shared = shared;
            _server = server;
            _source = source;
            _host = host;
            _prefix = prefix;
            _onSequence = OnSequence;
        }

        public bool Ready { get; private set; }

        public bool Failed => Failure is not null;

        public string? Failure { get; private set; }

        /// <summary>Distinct writes received, warm-up ones included.</summary>
        public long ReceivedAll { get; private set; }

        public long ReceivedMeasured { get; private set; }

        public int Reconnects { get; private set; }

        public void Close()
        {
            _closing = true;
            _socket?.Dispose();
        }

        public async Task RunAsync(SemaphoreSlim gate, CancellationToken cancellationToken)
        {
            var released = false;
            string? resumeFrom = null;
            try
            {
                while (!_closing && !cancellationToken.IsCancellationRequested)
                {
                    var parser = await OpenAsync(resumeFrom, cancellationToken).ConfigureAwait(false);
                    if (!released)
                    {
                        Ready = true;
                        released = true;
                        gate.Release();
                    }

                    var ended = await ReceiveAsync(parser, cancellationToken).ConfigureAwait(false);
                    if (!ended || _closing || _shared.Target != BenchTarget.AzKv)
                    {
                        if (!_closing && !cancellationToken.IsCancellationRequested)
                        {
                            Failure = "the server ended the stream";
                        }

                        return;
                    }

                    // The server ended the stream (an overflow close): resume from the last id it sent.
                    resumeFrom = parser.LastId;
                    Reconnects++;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidDataException)
            {
                if (!_closing && !cancellationToken.IsCancellationRequested)
                {
                    Failure = e is InvalidDataException ? e.Message : e.GetType().Name + (e is SocketException s ? " " + s.SocketErrorCode : string.Empty);
                }
            }
            finally
            {
                if (!released)
                {
                    gate.Release();
                }

                _socket?.Dispose();
            }
        }

        /// <summary>Connects, sends the watch request and reads the answer's head; returns the body parser once the watch is established.</summary>
        private async Task<WatchStreamParser> OpenAsync(string? resumeFrom, CancellationToken cancellationToken)
        {
            _socket?.Dispose();
            var socket = new Socket(_server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket = socket;
            if (_source is not null)
            {
                socket.Bind(new IPEndPoint(_source, 0));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await socket.ConnectAsync(_server, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(Request(resumeFrom), SocketFlags.None, timeout.Token).ConfigureAwait(false);

            var filled = 0;
            int headEnd;
            while ((headEnd = _buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == _buffer.Length)
                {
                    throw new InvalidDataException("response head too large");
                }

                var n = await socket.ReceiveAsync(_buffer.AsMemory(filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException("closed before the response head");
                }

                filled += n;
            }

            var head = Encoding.ASCII.GetString(_buffer, 0, headEnd);
            if (!head.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                throw new InvalidDataException("answer: " + head.Split('\r')[0]);
            }

            var chunked = head.Contains("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase);
            var parser = new WatchStreamParser(_shared.Marker, base64Keys: _shared.Target == BenchTarget.Etcd, chunked);
            _receivedAt = Stopwatch.GetTimestamp();
            parser.Consume(_buffer.AsSpan(headEnd + 4, filled - headEnd - 4), _onSequence);

            // etcd: the watch exists once the gateway relayed the "created" answer.
            while (_shared.Target == BenchTarget.Etcd && !parser.SawCreated)
            {
                var n = await socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException("closed before the watch was created");
                }

                _receivedAt = Stopwatch.GetTimestamp();
                parser.Consume(_buffer.AsSpan(0, n), _onSequence);
            }

            return parser;
        }

        /// <summary>Receives until the server ends the response (true) or the connection closes (false).</summary>
        private async Task<bool> ReceiveAsync(WatchStreamParser parser, CancellationToken cancellationToken)
        {
            var socket = _socket!;
            while (!parser.Ended)
            {
                var n = await socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    // Without chunking the body ends with the connection.
                    return parser.Ended || !parser.Chunked;
                }

                _receivedAt = Stopwatch.GetTimestamp();
                parser.Consume(_buffer.AsSpan(0, n), _onSequence);
            }

            return true;
        }

        private byte[] Request(string? resumeFrom)
        {
            if (_shared.Target == BenchTarget.Etcd)
            {
                var prefix = Encoding.UTF8.GetBytes(_prefix);
                var end = (byte[])prefix.Clone();
                end[^1]++;
                var body = "{\"create_request\":{\"key\":\"" + Convert.ToBase64String(prefix) + "\",\"range_end\":\"" + Convert.ToBase64String(end) + "\"}}";
                return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                    $"POST /v3/watch HTTP/1.1\r\nHost: {_host}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
            }

            var resume = string.IsNullOrEmpty(resumeFrom) ? string.Empty : "Last-Event-ID: " + resumeFrom + "\r\n";
            return Encoding.ASCII.GetBytes(
                $"GET /v1/watch?prefix={Uri.EscapeDataString(_prefix)} HTTP/1.1\r\nHost: {_host}\r\nAccept: text/event-stream\r\n{resume}\r\n");
        }

        private void OnSequence(long sequence)
        {
            // Writes are issued on a schedule, not one after another, so they may commit (and
            // arrive) out of sequence order: a bit per write tells a repeat (after a resume) apart.
            if (sequence < 0 || sequence >= _shared.TotalWrites)
            {
                return;
            }

            _seen ??= new ulong[(_shared.TotalWrites + 63) / 64];
            ref var word = ref _seen[sequence >> 6];
            var bit = 1UL << (int)(sequence & 63);
            if ((word & bit) != 0)
            {
                return;
            }

            word |= bit;
            ReceivedAll++;
            if (_shared.Record(_index, sequence, _receivedAt) && sequence >= _shared.WarmupWrites)
            {
                ReceivedMeasured++;
            }
        }
    }

    /// <summary>The server process: RSS (sampled, the largest kept) and CPU time, from /proc via <see cref="Process"/>.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private long _maxRss;

        private ServerProcess(Process process) => _process = process;

        public double MaxRssMiB => Math.Round(Interlocked.Read(ref _maxRss) / 1048576.0, 1);

        public static ServerProcess? TryOpen(int pid)
        {
            try
            {
                return new ServerProcess(Process.GetProcessById(pid));
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        public double RssMiB()
        {
            _process.Refresh();
            var rss = _process.WorkingSet64;
            InterlockedMax(rss);
            return Math.Round(rss / 1048576.0, 1);
        }

        public double CpuSeconds()
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalSeconds;
        }

        public async Task SampleAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    RssMiB();
                    await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The run is over.
            }
            catch (InvalidOperationException)
            {
                // The process exited.
            }
        }

        public void Dispose() => _process.Dispose();

        private void InterlockedMax(long value)
        {
            var seen = Interlocked.Read(ref _maxRss);
            while (value > seen)
            {
                var was = Interlocked.CompareExchange(ref _maxRss, value, seen);
                if (was == seen)
                {
                    return;
                }

                seen = was;
            }
        }
    }
}
