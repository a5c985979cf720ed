using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using AzKv.Testing.Linearizability;

namespace AzKv.Testing.Chaos;

/// <summary>
/// One client of a chaos run: reads, blind writes, compare-and-swap (a read, then a PUT with
/// <c>If-Match</c> its ETag, or <c>If-None-Match: *</c> when absent) and deletes on a few shared
/// keys, through any node, recording each operation in the history. Every write carries one
/// <c>Idempotency-Key</c>, reused on each retry of it.
/// </summary>
internal sealed class ChaosClient
{
    private readonly int _id;
    private readonly HttpClient _http;
    private readonly IReadOnlyList<ChaosNode> _nodes;
    private readonly IReadOnlyList<string> _keys;
    private readonly ChaosRecorder _recorder;
    private readonly ChaosOptions _options;
    private readonly Random _random;
    private int _sequence;

    public ChaosClient(int id, HttpClient http, IReadOnlyList<ChaosNode> nodes, IReadOnlyList<string> keys, ChaosRecorder recorder, ChaosOptions options, int seed)
    {
        _id = id;
        _http = http;
        _nodes = nodes;
        _keys = keys;
        _recorder = recorder;
        _options = options;
        _random = new Random(seed);
    }

    /// <summary>Answers no one expects from this API (e.g. 422, 500, siblings); a store bug, reported as a violation.</summary>
    public List<string> Unexpected { get; } = [];

    private enum Result
    {
        Ok,
        NoOp,
        Indeterminate,
    }

    private readonly record struct Attempt(Result Result, string? Output = null, string? ETag = null);

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var key = _keys[_random.Next(_keys.Count)];
            var dice = _random.Next(100);
            if (dice < 35)
            {
                await ReadAsync(key, _random.Next(_nodes.Count)).ConfigureAwait(false);
            }
            else if (dice < 60)
            {
                await WriteAsync(key, RegisterOpKind.Write, expected: null, etag: null).ConfigureAwait(false);
            }
            else if (dice < 85)
            {
                var read = await ReadAsync(key, _random.Next(_nodes.Count)).ConfigureAwait(false);
                if (read.Result == Result.Ok)
                {
                    await WriteAsync(key, RegisterOpKind.Cas, read.Output, read.ETag).ConfigureAwait(false);
                }
            }
            else
            {
                await WriteAsync(key, RegisterOpKind.Delete, expected: null, etag: null).ConfigureAwait(false);
            }

            try
            {
                await Task.Delay(_random.Next(5, 30), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads <paramref name="key"/> through node <paramref name="node"/> until it is answered or <paramref name="within"/> passes (at least one attempt).</summary>
    public async Task<bool> FinalReadAsync(string key, int node, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        do
        {
            if ((await ReadAsync(key, node).ConfigureAwait(false)).Result == Result.Ok)
            {
                return true;
            }

            await Task.Delay(250).ConfigureAwait(false);
        }
        while (watch.Elapsed < within);

        return false;
    }

    /// <summary>One read attempt on <paramref name="node"/>; an unanswered read is recorded failed or unknown (the checker drops both).</summary>
    private async Task<(Result Result, string? Output, string? ETag)> ReadAsync(string key, int node)
    {
        var op = _recorder.Invoke(_id, key, RegisterOpKind.Read);
        var attempt = await SendAsync(HttpMethod.Get, _nodes[node], key, body: null, headers: []).ConfigureAwait(false);
        _recorder.Complete(op, attempt.Result switch
        {
            Result.Ok => OperationOutcome.Ok,
            Result.NoOp => OperationOutcome.Failed, // 503 or nothing listening
            _ => OperationOutcome.Unknown,
        }, attempt.Output);
        return (attempt.Result, attempt.Output, attempt.ETag);
    }

    private async Task WriteAsync(string key, RegisterOpKind kind, string? expected, string? etag)
    {
        var value = kind == RegisterOpKind.Delete ? null : string.Create(CultureInfo.InvariantCulture, $"c{_id}-{++_sequence}");
        var headers = new List<(string, string)> { ("Idempotency-Key", Guid.NewGuid().ToString("N")) };
        if (kind == RegisterOpKind.Cas)
        {
            headers.Add(etag is null ? ("If-None-Match", "*") : ("If-Match", etag));
        }

        var op = _recorder.Invoke(_id, key, kind, value, expected);
        var indeterminate = false;
        var node = _random.Next(_nodes.Count);
        var started = Stopwatch.StartNew();
        for (var i = 0; i < _options.MaxAttempts || (indeterminate && started.Elapsed < _options.UnknownWriteRetryBudget); i++)
        {
            var method = kind == RegisterOpKind.Delete ? HttpMethod.Delete : HttpMethod.Put;
            var attempt = await SendAsync(method, _nodes[(node + i) % _nodes.Count], key, value, headers).ConfigureAwait(false);
            switch (attempt.Result)
            {
                case Result.Ok:
                    _recorder.Complete(op, OperationOutcome.Ok, attempt.Output);
                    return;
                case Result.Indeterminate:
                    indeterminate = true;
                    break;
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        // Every attempt a definite no-op: it did not happen. Else it may have, at any time.
        _recorder.Complete(op, indeterminate ? OperationOutcome.Unknown : OperationOutcome.Failed);
    }

    private async Task<Attempt> SendAsync(HttpMethod method, ChaosNode node, string key, string? body, IReadOnlyList<(string Name, string Value)> headers)
    {
        using var request = new HttpRequestMessage(method, new Uri(node.BaseAddress, "/v1/kv/" + Uri.EscapeDataString(key)));
        if (body is not null)
        {
            request.Content = new StringContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var timeout = new CancellationTokenSource(_options.RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            var etag = response.Headers.ETag?.ToString();
            var status = (int)response.StatusCode;
            return (method.Method, status) switch
            {
                ("GET", 200) => new Attempt(Result.Ok, text, etag),
                ("GET", 404) => new Attempt(Result.Ok, null, null),
                ("PUT", 200 or 201) => new Attempt(Result.Ok, "true"),
                ("PUT", 412) => new Attempt(Result.Ok, "false"),
                ("DELETE", 204) => new Attempt(Result.Ok, "true"),
                ("DELETE", 404) => new Attempt(Result.Ok, "false"),
                (_, 503) => new Attempt(Result.NoOp),
                (_, 504) => new Attempt(Result.Indeterminate),
                _ => RecordUnexpected(method, node, key, response.StatusCode, text),
            };
        }
        catch (HttpRequestException ex) when (method == HttpMethod.Get && ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return new Attempt(Result.NoOp); // nothing listening
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // Reset, no answer in time, or, for a write, even "connection refused": SocketsHttpHandler re-sends
            // a request whose reused connection closed unanswered, so a node killed after reading the
            // write shows up as a refused reconnect (AzKv.Client.Tests' SendFailureTests).
            return new Attempt(Result.Indeterminate);
        }
    }

    private Attempt RecordUnexpected(HttpMethod method, ChaosNode node, string key, HttpStatusCode status, string body)
    {
        lock (Unexpected)
        {
            Unexpected.Add($"{method} {key} via {node.NodeId}: {(int)status} {body[..Math.Min(body.Length, 300)]}");
        }

        return new Attempt(Result.Indeterminate);
    }
}

/// <summary>A <see cref="HistoryRecorder"/> that also notes each operation's wall-clock times.</summary>
internal sealed class ChaosRecorder
{
    private readonly HistoryRecorder _history = new();
    private readonly Stopwatch _clock;
    private readonly Dictionary<int, (double Invoked, double Completed)> _wall = [];

    public ChaosRecorder(Stopwatch clock)
    {
        _clock = clock;
    }

    public IReadOnlyList<RegisterOperation> Operations => _history.Operations;

    public IReadOnlyDictionary<int, (double Invoked, double Completed)> WallTimes
    {
        get
        {
            lock (_wall)
            {
                return new Dictionary<int, (double, double)>(_wall);
            }
        }
    }

    public RegisterOperation Invoke(int client, string key, RegisterOpKind kind, string? value = null, string? expected = null)
    {
        var invoked = _clock.Elapsed.TotalMilliseconds;
        var op = _history.Invoke(client, key, kind, value, expected);
        lock (_wall)
        {
            _wall[op.Id] = (invoked, double.NaN);
        }

        return op;
    }

    public void Complete(RegisterOperation op, OperationOutcome outcome, string? output = null)
    {
        _history.Complete(op, outcome, output);
        var completed = _clock.Elapsed.TotalMilliseconds;
        lock (_wall)
        {
            _wall[op.Id] = (_wall[op.Id].Invoked, completed);
        }
    }
}
