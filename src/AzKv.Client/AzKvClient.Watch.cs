using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using AzKv.Client.Errors;
using AzKv.Client.Serialization;

namespace AzKv.Client;

public sealed partial class AzKvClient
{
    /// <summary>How long after a long poll's wait an endpoint may take to answer before it counts as hung.</summary>
    private static readonly TimeSpan MaxWatchGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Watches changes to keys under <paramref name="prefix"/> with long polls, until cancelled.
    /// Each response's cursor feeds the next poll, so no change is missed; after a transient
    /// failure (no endpoint reachable, a timeout, 502/503/504) it backs off and resumes from the
    /// last cursor, without limit. Persist <see cref="KvChange.Cursor"/> to resume later.
    /// </summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="cursor">Resume after this cursor; null starts from now.</param>
    /// <param name="cancellationToken">Stops the watch.</param>
    /// <exception cref="AzKvCursorExpiredException">The cursor is older than the history the server keeps: list again, then watch from a fresh cursor.</exception>
    /// <exception cref="AzKvException">The server refused the watch (e.g. a malformed cursor).</exception>
    public IAsyncEnumerable<KvChange> WatchAsync(
        string? prefix = null,
        string? cursor = null,
        CancellationToken cancellationToken = default) =>
        WatchAsync(prefix, labelFilter: null, cursor, cancellationToken);

    /// <summary>Watches changes to the entries under <paramref name="prefix"/> whose label passes <paramref name="labelFilter"/>, as <see cref="WatchAsync(string?, string?, CancellationToken)"/>.</summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="labelFilter"><see cref="AzKvLabels.Any"/> (or null) for every label, a label, a comma list, and <see cref="AzKvLabels.Null"/> for the null label.</param>
    /// <param name="cursor">Resume after this cursor; null starts from now.</param>
    /// <param name="cancellationToken">Stops the watch.</param>
    public async IAsyncEnumerable<KvChange> WatchAsync(
        string? prefix,
        string? labelFilter,
        string? cursor,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Without a cursor, take "now" first so even the first response has a cursor before each change.
        var current = cursor;
        if (string.IsNullOrEmpty(current))
        {
            current = RequireCursor(await PollAsync(prefix, labelFilter, cursor: null, TimeSpan.Zero, int.MaxValue, cancellationToken).ConfigureAwait(false));
        }

        while (true)
        {
            var response = await PollAsync(prefix, labelFilter, current, _watchPollTimeout, int.MaxValue, cancellationToken).ConfigureAwait(false);
            var next = RequireCursor(response);
            var changes = response.Changes ?? [];
            for (var i = 0; i < changes.Count; i++)
            {
                var change = changes[i];
                // Only the response's cursor is known to be after every change in it; resuming from
                // the request's cursor may deliver the others again but never skips one.
                yield return new KvChange(
                    change.Key ?? string.Empty,
                    ParseChangeType(change.Type),
                    change.Etag,
                    change.ContentType,
                    change.Size,
                    i == changes.Count - 1 ? next : current)
                {
                    Label = change.Label,
                };
            }

            current = next;
        }
    }

    /// <summary>
    /// Returns a cursor for "now" without waiting: watch from it to see every change after this
    /// call. Take one before listing to watch from the listing's time.
    /// </summary>
    /// <param name="prefix">The prefix the watch will use.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<string> GetWatchCursorAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        RequireCursor(await PollAsync(prefix, labelFilter: null, cursor: null, TimeSpan.Zero, _maxRetries, cancellationToken).ConfigureAwait(false));

    private async Task<WatchResponse> PollAsync(string? prefix, string? labelFilter, string? cursor, TimeSpan wait, int maxRetries, CancellationToken cancellationToken)
    {
        var query = new StringBuilder("/v1/watch?timeout=")
            .Append(((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        AppendQuery(query, "prefix", prefix);
        AppendQuery(query, "cursor", cursor);
        AppendLabelFilter(query, labelFilter);
        using var response = await _pipeline.SendAsync(
            query.ToString(),
            uri => new HttpRequestMessage(HttpMethod.Get, uri),
            maxRetries,
            WatchAttemptTimeout(wait),
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            throw ProblemDetails.FromBody(
                (int)response.StatusCode,
                response.ReasonPhrase,
                response.Content.Headers.ContentType?.MediaType,
                body,
                "WATCH " + (prefix ?? string.Empty),
                cursor);
        }

        return await ReadJsonAsync(response, ClientJsonContext.Default.WatchResponse, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A long poll answers by <paramref name="wait"/> at the latest, so an endpoint that has not
    /// answered a little after that is hung: the attempt gives up then (at most
    /// <see cref="MaxWatchGrace"/> after the wait) and the watch moves to the next endpoint.
    /// </summary>
    internal TimeSpan WatchAttemptTimeout(TimeSpan wait) =>
        wait + (_requestTimeout < MaxWatchGrace ? _requestTimeout : MaxWatchGrace);

    private static string RequireCursor(WatchResponse response) =>
        string.IsNullOrEmpty(response.Cursor)
            ? throw new AzKvException("The server answered a watch without a cursor.", 200, null, null, null)
            : response.Cursor;

    private static KvChangeType ParseChangeType(string? type) => type switch
    {
        "put" => KvChangeType.Put,
        "delete" => KvChangeType.Delete,
        _ => KvChangeType.Unknown,
    };
}
