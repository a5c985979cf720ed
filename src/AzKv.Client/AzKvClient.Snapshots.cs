using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AzKv.Client.Errors;
using AzKv.Client.Serialization;

namespace AzKv.Client;

public sealed partial class AzKvClient
{
    /// <summary>
    /// Creates snapshot <paramref name="name"/> of the key-values <paramref name="filters"/> select (1–3; the later filter
    /// wins per key). A snapshot is immutable and consistent per partition (docs/api.md, "Snapshots").
    /// </summary>
    /// <param name="name">1–128 letters, digits, '.', '_', '-'.</param>
    /// <param name="filters">Prefix and label of each filter.</param>
    /// <param name="retention">How long it is kept (1 hour to 90 days); null for the server's default (30 days).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvException">The name exists (409 <see cref="AzKvProblemTypes.SnapshotExists"/>), the request is invalid (400), or another failure.</exception>
    public async Task<AzKvSnapshot> CreateSnapshotAsync(string name, IEnumerable<AzKvSnapshotFilter> filters, TimeSpan? retention = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(filters);
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new CreateSnapshotBody { Name = name, Filters = [.. filters], RetentionSeconds = retention is { } r ? (long)r.TotalSeconds : null },
            ClientJsonContext.Default.CreateSnapshotBody);
        using var response = await _pipeline.SendAsync(
            "/v1/snapshots",
            uri => new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } } },
            _maxRetries,
            _requestTimeout,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await ProblemDetails.ToExceptionAsync(response, "CREATE SNAPSHOT " + name, cancellationToken).ConfigureAwait(false);
        }

        return await ReadJsonAsync(response, ClientJsonContext.Default.AzKvSnapshot, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The metadata of snapshot <paramref name="name"/>, or null when there is none.</summary>
    /// <exception cref="AzKvException">It has expired (410 <see cref="AzKvProblemTypes.SnapshotExpired"/>), the caller may not read it (403), or another failure.</exception>
    public async Task<AzKvSnapshot?> GetSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var response = await SendAsync(HttpMethod.Get, "/v1/snapshots/" + Uri.EscapeDataString(name), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound && await IsProblemAsync(response, AzKvProblemTypes.SnapshotNotFound, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ProblemDetails.ToExceptionAsync(response, "GET SNAPSHOT " + name, cancellationToken).ConfigureAwait(false);
        }

        return await ReadJsonAsync(response, ClientJsonContext.Default.AzKvSnapshot, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The snapshots the caller may read, in name order, following the server's pages.</summary>
    public async IAsyncEnumerable<AzKvSnapshot> ListSnapshotsAsync(int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        string? cursor = null;
        do
        {
            var query = new StringBuilder("/v1/snapshots?limit=").Append(pageSize.ToString(CultureInfo.InvariantCulture));
            AppendQuery(query, "cursor", cursor);
            using var response = await SendAsync(HttpMethod.Get, query.ToString(), cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw await ProblemDetails.ToExceptionAsync(response, "LIST SNAPSHOTS", cancellationToken).ConfigureAwait(false);
            }

            var page = await ReadJsonAsync(response, ClientJsonContext.Default.SnapshotListBody, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                yield return item;
            }

            cursor = string.IsNullOrEmpty(page.Next) ? null : page.Next;
        }
        while (cursor is not null);
    }

    /// <summary>Every item of snapshot <paramref name="name"/> in entry-key order (the shape of <see cref="ListAsync(string?, int, bool, CancellationToken)"/>), following its pages.</summary>
    public async IAsyncEnumerable<KvItem> GetSnapshotItemsAsync(string name, bool includeValues = true, int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await GetSnapshotItemsPageAsync(name, pageSize, cursor, includeValues, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            cursor = page.Next;
        }
        while (cursor is not null);
    }

    /// <summary>One page of snapshot <paramref name="name"/>'s items after <paramref name="cursor"/>.</summary>
    /// <exception cref="AzKvException">No such snapshot (404 <see cref="AzKvProblemTypes.SnapshotNotFound"/>), expired (410), forbidden (403), or another failure.</exception>
    public async Task<KvPage> GetSnapshotItemsPageAsync(string name, int limit = 100, string? cursor = null, bool includeValues = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        var query = new StringBuilder("/v1/snapshots/").Append(Uri.EscapeDataString(name)).Append("/kv?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        AppendQuery(query, "cursor", cursor);
        if (includeValues)
        {
            query.Append("&values=true");
        }

        using var response = await SendAsync(HttpMethod.Get, query.ToString(), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ProblemDetails.ToExceptionAsync(response, "GET SNAPSHOT ITEMS " + name, cancellationToken).ConfigureAwait(false);
        }

        var body = await ReadJsonAsync(response, ClientJsonContext.Default.ListResponse, cancellationToken).ConfigureAwait(false);
        return new KvPage(body.Items ?? [], string.IsNullOrEmpty(body.Next) ? null : body.Next);
    }

    /// <summary>Deletes snapshot <paramref name="name"/>; false when there was none.</summary>
    public async Task<bool> DeleteSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var response = await SendAsync(HttpMethod.Delete, "/v1/snapshots/" + Uri.EscapeDataString(name), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return true;
        }

        if (response.StatusCode == HttpStatusCode.NotFound && await IsProblemAsync(response, AzKvProblemTypes.SnapshotNotFound, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        throw await ProblemDetails.ToExceptionAsync(response, "DELETE SNAPSHOT " + name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when the answer is a problem document of <paramref name="type"/> (the body stays readable).</summary>
    private static async Task<bool> IsProblemAsync(HttpResponseMessage response, string type, CancellationToken cancellationToken)
    {
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                && JsonSerializer.Deserialize(body, ClientJsonContext.Default.ProblemDocument)?.Type == type;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
