using System.Net;
using System.Text;

namespace AzKv.Cli.Benchmarking;

/// <summary>One operation of a workload.</summary>
internal enum BenchOperation
{
    /// <summary>Write a key.</summary>
    Put,

    /// <summary>Read a key.</summary>
    Get,

    /// <summary>GET /healthz.</summary>
    Health,
}

/// <summary>
/// Builds the HTTP requests of each target for the same keys and value, and judges the answers.
/// Thread-safe: the cached request bytes are immutable once built (two threads may build the same one).
/// </summary>
internal sealed class BenchRequests
{
    private readonly HttpBenchSettings _settings;
    private readonly byte[]?[] _rawGets;
    private readonly byte[]?[] _rawPuts;
    private readonly byte[][] _keyBytes;
    private byte[]? _rawHealth;

    public BenchRequests(HttpBenchSettings settings)
    {
        _settings = settings;
        _rawGets = new byte[settings.Keys][];
        _rawPuts = new byte[settings.Keys][];
        _keyBytes = new byte[settings.Keys][];
        Value = CreateValue(settings.ValueBytes);
        BearerToken = settings.Target == BenchTarget.AzKv ? AzKv.Client.Auth.AmbientToken.ReadNow([settings.Url]) : null;
    }

    /// <summary>The token every AzKv request carries (AZKV_TOKEN, or the local up's; docs/security.md); null: none.</summary>
    public string? BearerToken { get; }

    /// <summary>The value every put writes: printable ASCII, the same bytes for every target.</summary>
    public byte[] Value { get; }

    /// <summary>
    /// The whole HTTP/1.1 request for <paramref name="operation"/> on key <paramref name="key"/>: head and
    /// body as bytes, built on first use and reused (the generator then costs no allocation per request).
    /// AzKv: <c>PUT</c>/<c>GET /v1/kv/{key}</c> with the value as the body; etcd: <c>POST</c> of its JSON
    /// gateway's put/range with the same key and value.
    /// </summary>
    public ReadOnlyMemory<byte> Raw(BenchOperation operation, int key) => operation switch
    {
        BenchOperation.Health => _rawHealth ??= Build("GET", "/healthz", null, null),
        BenchOperation.Get => _rawGets[key] ??= _settings.Target == BenchTarget.AzKv
            ? Build("GET", KeyPath(key), null, null)
            : Build("POST", EtcdJson.RangePath, "application/json", EtcdJson.EncodeRange(KeyBytes(key), serializable: true)),
        _ => _rawPuts[key] ??= _settings.Target == BenchTarget.AzKv
            ? Build("PUT", KeyPath(key), "application/octet-stream", Value)
            : Build("POST", EtcdJson.PutPath, "application/json", EtcdJson.EncodePut(KeyBytes(key), Value)),
    };

    /// <summary>
    /// Null when the answer is a success for the operation; otherwise a short reason
    /// (<c>http 404</c>, <c>etcd: key not found</c>) to count errors by.
    /// </summary>
    public string? Check(BenchOperation operation, HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        var code = (int)status;
        if (code is < 200 or > 299)
        {
            return HttpError(code);
        }

        if (_settings.Target == BenchTarget.Etcd && operation == BenchOperation.Get)
        {
            if (!EtcdJson.TryReadRange(body, out var count, out _))
            {
                return "etcd: not a range answer";
            }

            return count < 1 ? "etcd: key not found" : null;
        }

        if (_settings.Target == BenchTarget.AzKv && operation == BenchOperation.Get && body.Length != Value.Length)
        {
            return "azkv: wrong value length";
        }

        return null;
    }

    private static readonly string[] HttpErrors = CreateHttpErrors();

    private static string HttpError(int code) => code is >= 100 and < 600 ? HttpErrors[code] : "http " + code;

    private static string[] CreateHttpErrors()
    {
        var names = new string[600];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = "http " + i;
        }

        return names;
    }

    /// <summary>The escaped path of the key's URL (what a client library would send).</summary>
    private string KeyPath(int key) => new Uri(_settings.Url, "/v1/kv/" + _settings.KeyName(key)).AbsolutePath;

    private byte[] Build(string method, string path, string? contentType, byte[]? body)
    {
        var head = new StringBuilder()
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(_settings.Url.Authority).Append("\r\n");
        if (BearerToken is { } token)
        {
            head.Append("Authorization: Bearer ").Append(token).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n")
                .Append("Content-Length: ").Append(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n");
        }

        head.Append("\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        return body is null ? headBytes : [.. headBytes, .. body];
    }

    private byte[] KeyBytes(int key) =>
        _keyBytes[key] ??= Encoding.UTF8.GetBytes(_settings.KeyName(key));

    private static byte[] CreateValue(int length)
    {
        var value = new byte[length];
        var random = new Random(42);
        for (var i = 0; i < value.Length; i++)
        {
            value[i] = (byte)('a' + random.Next(26));
        }

        return value;
    }
}
