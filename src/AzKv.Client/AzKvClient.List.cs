using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using AzKv.Client.Errors;
using AzKv.Client.Serialization;

namespace AzKv.Client;

public sealed partial class AzKvClient
{
    /// <summary>The largest page the server returns.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>
    /// Lists keys under <paramref name="prefix"/> in ordinal order of their UTF-8 bytes, following
    /// the server's cursors page by page. No key that exists for the whole listing is skipped or
    /// repeated, even while writes go on.
    /// </summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="pageSize">Keys per request, 1–1000.</param>
    /// <param name="includeValues">Also fetch each value (<see cref="KvItem.Value"/>).</param>
    /// <param name="cancellationToken">Stops the listing.</param>
    public IAsyncEnumerable<KvItem> ListAsync(
        string? prefix = null,
        int pageSize = 100,
        bool includeValues = false,
        CancellationToken cancellationToken = default) =>
        ListAsync(prefix, labelFilter: null, pageSize, includeValues, cancellationToken);

    /// <summary>
    /// Lists the entries under <paramref name="prefix"/> whose label passes <paramref name="labelFilter"/>, in ordinal
    /// order of key and then label (the null label first), following the server's cursors.
    /// </summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="labelFilter"><see cref="AzKvLabels.Any"/> (or null) for every label, a label, a comma list, and <see cref="AzKvLabels.Null"/> for the null label.</param>
    /// <param name="pageSize">Entries per request, 1–1000.</param>
    /// <param name="includeValues">Also fetch each value (<see cref="KvItem.Value"/>).</param>
    /// <param name="cancellationToken">Stops the listing.</param>
    public async IAsyncEnumerable<KvItem> ListAsync(
        string? prefix,
        string? labelFilter,
        int pageSize = 100,
        bool includeValues = false,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListPageAsync(prefix, labelFilter, pageSize, cursor, includeValues, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            cursor = page.Next;
        }
        while (cursor is not null);
    }

    /// <summary>Reads one page of keys under <paramref name="prefix"/>, after <paramref name="cursor"/>.</summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="limit">Most keys to return, 1–1000.</param>
    /// <param name="cursor">The previous page's <see cref="KvPage.Next"/>; null for the first page.</param>
    /// <param name="includeValues">Also fetch each value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<KvPage> ListPageAsync(
        string? prefix = null,
        int limit = 100,
        string? cursor = null,
        bool includeValues = false,
        CancellationToken cancellationToken = default) =>
        ListPageAsync(prefix, labelFilter: null, limit, cursor, includeValues, cancellationToken);

    /// <summary>Reads one page of the entries under <paramref name="prefix"/> whose label passes <paramref name="labelFilter"/>, after <paramref name="cursor"/>.</summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="labelFilter"><see cref="AzKvLabels.Any"/> (or null) for every label, a label, a comma list, and <see cref="AzKvLabels.Null"/> for the null label.</param>
    /// <param name="limit">Most entries to return, 1–1000.</param>
    /// <param name="cursor">The previous page's <see cref="KvPage.Next"/>; null for the first page.</param>
    /// <param name="includeValues">Also fetch each value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<KvPage> ListPageAsync(
        string? prefix,
        string? labelFilter,
        int limit = 100,
        string? cursor = null,
        bool includeValues = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        var query = new StringBuilder("/v1/kv?limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        AppendQuery(query, "prefix", prefix);
        AppendQuery(query, "cursor", cursor);
        AppendLabelFilter(query, labelFilter);
        if (includeValues)
        {
            query.Append("&values=true");
        }

        using var response = await SendAsync(HttpMethod.Get, query.ToString(), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await ProblemDetails.ToExceptionAsync(response, "LIST " + (prefix ?? string.Empty), cancellationToken).ConfigureAwait(false);
        }

        var body = await ReadJsonAsync(response, ClientJsonContext.Default.ListResponse, cancellationToken).ConfigureAwait(false);
        return new KvPage(body.Items ?? [], string.IsNullOrEmpty(body.Next) ? null : body.Next);
    }

    /// <summary>The label filter as a query parameter; nothing for "any" (the server's default).</summary>
    private static void AppendLabelFilter(StringBuilder query, string? labelFilter)
    {
        if (labelFilter is not null && labelFilter != AzKvLabels.Any)
        {
            query.Append("&label=").Append(Uri.EscapeDataString(labelFilter));
        }
    }

    private static void AppendQuery(StringBuilder query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
