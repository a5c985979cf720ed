using System.Net;
using System.Text;
using System.Text.Json;
using AzKv.Client.Errors;
using AzKv.Client.Http;
using AzKv.Client.Serialization;

namespace AzKv.Client;

/// <summary>
/// A client of the AzKv REST API v1 (docs/api.md). Thread-safe; create one per application and
/// reuse it. Expected outcomes are results (<c>null</c> for a missing key, <c>false</c> for a
/// delete of a missing key, <c>null</c> from <see cref="TryPutAsync(string, ReadOnlyMemory{byte}, string?, KvCondition, CancellationToken)"/> when its condition fails);
/// everything else is an <see cref="AzKvException"/>.
/// </summary>
public sealed partial class AzKvClient : IDisposable
{
    private const string DefaultContentType = "application/octet-stream";
    private const string TextContentType = "text/plain; charset=utf-8";

    private readonly RequestPipeline _pipeline;
    private readonly int _maxRetries;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _watchPollTimeout;
    private readonly bool _sendIdempotencyKeys;

    /// <summary>Creates a client of one node, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public AzKvClient(Uri endpoint)
        : this(new AzKvClientOptions { Endpoints = [endpoint] })
    {
    }

    /// <summary>Creates a client.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public AzKvClient(AzKvClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _pipeline = new RequestPipeline(options);
        _maxRetries = options.MaxRetries;
        _requestTimeout = options.RequestTimeout;
        _watchPollTimeout = options.WatchPollTimeout;
        _sendIdempotencyKeys = options.SendIdempotencyKeys;
    }

    /// <summary>The endpoints, most preferred first.</summary>
    public IReadOnlyList<Uri> Endpoints => _pipeline.Endpoints;

    /// <summary>Reads a key. Returns null when it does not exist.</summary>
    /// <exception cref="ArgumentException">The key is empty or not valid Unicode.</exception>
    /// <exception cref="AzKvException">The server refused the request (e.g. an invalid key) or could not be reached.</exception>
    public Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default) => GetAsync(key, label: null, cancellationToken);

    /// <summary>Reads the value of <paramref name="key"/> under <paramref name="label"/>. Returns null when it does not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="label">The label; null for the null label (the value without a label).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvException">The server refused the request (e.g. an invalid key or label) or could not be reached.</exception>
    public async Task<KvEntry?> GetAsync(string key, string? label, CancellationToken cancellationToken = default)
    {
        var path = KeyPath(key, label);
        using var response = await SendAsync(HttpMethod.Get, path, cancellationToken).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
                var value = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                return new KvEntry(
                    key,
                    value,
                    GetETag(response) ?? string.Empty,
                    response.Content.Headers.ContentType?.ToString() ?? DefaultContentType)
                {
                    Label = label,
                };
            case HttpStatusCode.MultipleChoices:
                var siblings = await ReadJsonAsync(response, ClientJsonContext.Default.SiblingsResponse, cancellationToken).ConfigureAwait(false);
                return new KvEntry(
                    key,
                    ReadOnlyMemory<byte>.Empty,
                    siblings.Etag ?? GetETag(response) ?? string.Empty,
                    string.Empty,
                    siblings.Versions ?? [])
                {
                    Label = label,
                };
            case HttpStatusCode.NotFound:
                return null;
            default:
                throw await ProblemDetails.ToExceptionAsync(response, $"GET {key}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a key's value as UTF-8 text. Returns null when it does not exist.</summary>
    /// <exception cref="AzKvException">The key has concurrent versions (status 300; use <see cref="GetAsync(string, CancellationToken)"/>), or the request failed.</exception>
    public Task<string?> GetStringAsync(string key, CancellationToken cancellationToken = default) => GetStringAsync(key, label: null, cancellationToken);

    /// <summary>Reads the value of <paramref name="key"/> under <paramref name="label"/> (null: the null label) as UTF-8 text. Returns null when it does not exist.</summary>
    /// <exception cref="AzKvException">The entry has concurrent versions (status 300; use <see cref="GetAsync(string, string?, CancellationToken)"/>), or the request failed.</exception>
    public async Task<string?> GetStringAsync(string key, string? label, CancellationToken cancellationToken = default)
    {
        var entry = await GetAsync(key, label, cancellationToken).ConfigureAwait(false);
        if (entry is { HasSiblings: true })
        {
            throw new AzKvException(
                $"GET {key}: the key has {entry.Siblings.Count} concurrent versions; read them with GetAsync and write the merged value with KvCondition.IfMatch(entry.ETag).",
                300,
                problemType: null,
                title: "Multiple Choices",
                detail: null);
        }

        return entry?.GetString();
    }

    /// <summary>Writes a key.</summary>
    /// <param name="key">The key: 1–1024 bytes of UTF-8 without control characters.</param>
    /// <param name="value">The value bytes.</param>
    /// <param name="contentType">Stored and returned on reads; null means <c>application/octet-stream</c>.</param>
    /// <param name="condition">Compare-and-swap (<see cref="KvCondition.IfMatch(string)"/>) or create-only (<see cref="KvCondition.IfNoneMatch"/>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvPreconditionFailedException">The condition did not hold.</exception>
    /// <exception cref="AzKvException">The server refused the write or could not be reached.</exception>
    public async Task<PutResult> PutAsync(string key, ReadOnlyMemory<byte> value, string? contentType = null, KvCondition condition = default, CancellationToken cancellationToken = default) =>
        await TryPutCoreAsync(key, null, value, contentType, condition, cancellationToken).ConfigureAwait(false)
        ?? throw PreconditionFailed(key, condition);

    /// <summary>Writes the value of <paramref name="key"/> under <paramref name="label"/>: each (key, label) is its own entry with its own ETag.</summary>
    /// <param name="key">The key.</param>
    /// <param name="label">The label (1–256 bytes of UTF-8, no control characters, no <c>*</c> or <c>,</c>); null for the null label.</param>
    /// <param name="value">The value bytes.</param>
    /// <param name="contentType">Stored and returned on reads; null means <c>application/octet-stream</c>.</param>
    /// <param name="condition">Compare-and-swap or create-only, on this (key, label) only.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvPreconditionFailedException">The condition did not hold.</exception>
    public async Task<PutResult> PutAsync(string key, string? label, ReadOnlyMemory<byte> value, string? contentType = null, KvCondition condition = default, CancellationToken cancellationToken = default) =>
        await TryPutCoreAsync(key, label, value, contentType, condition, cancellationToken).ConfigureAwait(false)
        ?? throw PreconditionFailed(key, condition);

    /// <summary>Writes a key; returns null instead of throwing when <paramref name="condition"/> does not hold.</summary>
    /// <exception cref="AzKvException">The server refused the write for another reason or could not be reached.</exception>
    public Task<PutResult?> TryPutAsync(string key, ReadOnlyMemory<byte> value, string? contentType = null, KvCondition condition = default, CancellationToken cancellationToken = default) =>
        TryPutCoreAsync(key, null, value, contentType, condition, cancellationToken);

    /// <summary>Writes (key, label); returns null instead of throwing when <paramref name="condition"/> does not hold.</summary>
    public Task<PutResult?> TryPutAsync(string key, string? label, ReadOnlyMemory<byte> value, string? contentType = null, KvCondition condition = default, CancellationToken cancellationToken = default) =>
        TryPutCoreAsync(key, label, value, contentType, condition, cancellationToken);

    /// <summary>Writes a key's value as UTF-8 text (<c>text/plain; charset=utf-8</c>).</summary>
    /// <exception cref="AzKvPreconditionFailedException">The condition did not hold.</exception>
    public Task<PutResult> PutStringAsync(string key, string value, KvCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return PutAsync(key, Encoding.UTF8.GetBytes(value), TextContentType, condition, cancellationToken);
    }

    /// <summary>Writes the value of (key, label) as UTF-8 text (<c>text/plain; charset=utf-8</c>).</summary>
    /// <exception cref="AzKvPreconditionFailedException">The condition did not hold.</exception>
    public Task<PutResult> PutStringAsync(string key, string? label, string value, KvCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return PutAsync(key, label, Encoding.UTF8.GetBytes(value), TextContentType, condition, cancellationToken);
    }

    /// <summary>Deletes a key. Returns false when it did not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ifMatch">Delete only if the key's current ETag is this one.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvPreconditionFailedException"><paramref name="ifMatch"/> did not match.</exception>
    public Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(key, label: null, ifMatch, cancellationToken);

    /// <summary>Deletes (key, label); the key's other labels stay. Returns false when it did not exist.</summary>
    /// <param name="key">The key.</param>
    /// <param name="label">The label; null for the null label.</param>
    /// <param name="ifMatch">Delete only if the entry's current ETag is this one; null for no condition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvPreconditionFailedException"><paramref name="ifMatch"/> did not match.</exception>
    public async Task<bool> DeleteAsync(string key, string? label, string? ifMatch, CancellationToken cancellationToken = default)
    {
        var path = KeyPath(key, label);
        var etag = ifMatch is null ? null : ETags.Normalize(ifMatch);
        var idempotencyKey = NewIdempotencyKey();
        using var response = await _pipeline.SendAsync(
            path,
            uri =>
            {
                var request = new HttpRequestMessage(HttpMethod.Delete, uri);
                if (etag is not null)
                {
                    request.Headers.TryAddWithoutValidation("If-Match", etag);
                }

                AddIdempotencyKey(request, idempotencyKey);
                return request;
            },
            _maxRetries,
            _requestTimeout,
            cancellationToken,
            conditionalWrite: etag is not null && idempotencyKey is null).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent or HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw await ProblemDetails.ToExceptionAsync(response, $"DELETE {key}", cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>Releases the HTTP client the client created (a supplied one is left alone).</summary>
    public void Dispose() => _pipeline.Dispose();

    private async Task<PutResult?> TryPutCoreAsync(string key, string? label, ReadOnlyMemory<byte> value, string? contentType, KvCondition condition, CancellationToken cancellationToken)
    {
        var path = KeyPath(key, label);
        var mediaType = string.IsNullOrWhiteSpace(contentType) ? DefaultContentType : contentType;
        var idempotencyKey = NewIdempotencyKey();
        using var response = await _pipeline.SendAsync(
            path,
            uri =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ReadOnlyMemoryContent(value) };
                if (!request.Content.Headers.TryAddWithoutValidation("Content-Type", mediaType))
                {
                    throw new ArgumentException($"'{mediaType}' is not a valid content type.", nameof(contentType));
                }

                switch (condition.Kind)
                {
                    case KvConditionKind.IfMatch:
                        request.Headers.TryAddWithoutValidation("If-Match", condition.ETag);
                        break;
                    case KvConditionKind.IfNoneMatch:
                        request.Headers.TryAddWithoutValidation("If-None-Match", "*");
                        break;
                    default:
                        break;
                }

                AddIdempotencyKey(request, idempotencyKey);
                return request;
            },
            _maxRetries,
            _requestTimeout,
            cancellationToken,
            conditionalWrite: (condition.Kind is KvConditionKind.IfMatch or KvConditionKind.IfNoneMatch) && idempotencyKey is null).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
            case HttpStatusCode.Created:
                var etag = GetETag(response);
                if (etag is null)
                {
                    var body = await ReadJsonAsync(response, ClientJsonContext.Default.PutResponse, cancellationToken).ConfigureAwait(false);
                    etag = body.Etag ?? string.Empty;
                }

                return new PutResult(etag, response.StatusCode == HttpStatusCode.Created);
            case HttpStatusCode.PreconditionFailed:
                return null;
            default:
                throw await ProblemDetails.ToExceptionAsync(response, $"PUT {key}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One key per logical write, sent on every attempt (retries and other endpoints alike), so the server
    /// applies the write once and answers a retry with the first attempt's outcome. Null when turned off.
    /// </summary>
    private string? NewIdempotencyKey() => _sendIdempotencyKeys ? Guid.NewGuid().ToString("N") : null;

    private static void AddIdempotencyKey(HttpRequestMessage request, string? idempotencyKey)
    {
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation(AzKvClientOptions.IdempotencyKeyHeaderName, idempotencyKey);
        }
    }

    private static AzKvPreconditionFailedException PreconditionFailed(string key, KvCondition condition) =>
        new(condition.Kind == KvConditionKind.IfNoneMatch
            ? $"PUT {key} failed: the key already exists (create-only write)."
            : $"PUT {key} failed: the key's ETag is no longer {condition.ETag}.");

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, CancellationToken cancellationToken) =>
        _pipeline.SendAsync(pathAndQuery, uri => new HttpRequestMessage(method, uri), _maxRetries, _requestTimeout, cancellationToken);

    private static string KeyPath(string key, string? label) =>
        label is null ? "/v1/kv/" + KeyEncoder.Encode(key) : "/v1/kv/" + KeyEncoder.Encode(key) + "?label=" + Uri.EscapeDataString(label);

    private static string? GetETag(HttpResponseMessage response) =>
        response.Headers.TryGetValues("ETag", out var values) ? values.FirstOrDefault() : null;

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(body, typeInfo)
                ?? throw new AzKvException($"The server answered {(int)response.StatusCode} with an empty JSON body.", (int)response.StatusCode, null, null, null);
        }
        catch (JsonException ex)
        {
            throw new AzKvException($"The server answered {(int)response.StatusCode} with JSON this client cannot read: {ex.Message}", (int)response.StatusCode, null, null, null, ex);
        }
    }
}
