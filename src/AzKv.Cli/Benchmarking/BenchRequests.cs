using System.Net;
using System.Net.Http.Headers;
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
/// Thread-safe: the cached URIs are immutable and built on first use.
/// </summary>
internal sealed class BenchRequests
{
    private readonly HttpBenchSettings _settings;
    private readonly Uri[] _keyUris;
    private readonly byte[][] _keyBytes;
    private readonly Uri _etcdPut;
    private readonly Uri _etcdRange;
    private readonly Uri _health;

    public BenchRequests(HttpBenchSettings settings)
    {
        _settings = settings;
        _keyUris = new Uri[settings.Keys];
        _keyBytes = new byte[settings.Keys][];
        _etcdPut = new Uri(settings.Url, EtcdJson.PutPath);
        _etcdRange = new Uri(settings.Url, EtcdJson.RangePath);
        _health = new Uri(settings.Url, "/healthz");
        Value = CreateValue(settings.ValueBytes);
        BearerToken = settings.Target == BenchTarget.AzKv ? AzKv.Client.Auth.AmbientToken.ReadNow([settings.Url]) : null;
    }

    /// <summary>The token every AzKv request carries (AZKV_TOKEN, or the local up's; docs/security.md); null: none.</summary>
    public string? BearerToken { get; }

    /// <summary>The value every put writes: printable ASCII, the same bytes for every target.</summary>
    public byte[] Value { get; }

    /// <summary>The request for <paramref name="operation"/> on key <paramref name="key"/>.</summary>
    public HttpRequestMessage Create(BenchOperation operation, int key, MediaTypeHeaderValue contentType)
    {
        HttpRequestMessage request;
        switch (operation)
        {
            case BenchOperation.Health:
                request = new HttpRequestMessage(HttpMethod.Get, _health);
                break;
            case BenchOperation.Get when _settings.Target == BenchTarget.AzKv:
                request = new HttpRequestMessage(HttpMethod.Get, KeyUri(key));
                break;
            case BenchOperation.Put when _settings.Target == BenchTarget.AzKv:
                request = new HttpRequestMessage(HttpMethod.Put, KeyUri(key)) { Content = new ByteArrayContent(Value) };
                request.Content.Headers.ContentType = contentType;
                break;
            case BenchOperation.Get:
                request = new HttpRequestMessage(HttpMethod.Post, _etcdRange) { Content = new ByteArrayContent(EtcdJson.EncodeRange(KeyBytes(key), serializable: true)) };
                request.Content.Headers.ContentType = contentType;
                break;
            default:
                request = new HttpRequestMessage(HttpMethod.Post, _etcdPut) { Content = new ByteArrayContent(EtcdJson.EncodePut(KeyBytes(key), Value)) };
                request.Content.Headers.ContentType = contentType;
                break;
        }

        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return request;
    }

    /// <summary>The content type of request bodies: the value's for AzKv, JSON for etcd.</summary>
    public MediaTypeHeaderValue CreateContentType() =>
        new(_settings.Target == BenchTarget.AzKv ? "application/octet-stream" : "application/json");

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

    private Uri KeyUri(int key) =>
        _keyUris[key] ??= new Uri(_settings.Url, "/v1/kv/" + _settings.KeyName(key));

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
