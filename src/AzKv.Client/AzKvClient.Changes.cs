namespace AzKv.Client;

public sealed partial class AzKvClient
{
    /// <summary>
    /// Returns the changes under <paramref name="prefix"/> after <paramref name="cursor"/> without
    /// waiting (one watch request with no wait), and the cursor to ask from next time. For apps
    /// that check on their own schedule instead of keeping a watch open (e.g. Functions on the
    /// consumption plan): chaining the returned cursors never misses a change. A response holds at
    /// most a page of changes; ask again from <see cref="KvChangeBatch.Cursor"/> while
    /// <see cref="KvChangeBatch.Changes"/> is not empty to drain a backlog.
    /// </summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="cursor">The cursor of an earlier batch, a watch or <see cref="GetWatchCursorAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AzKvCursorExpiredException">The cursor is too old or of another store: list again, then continue from a fresh cursor.</exception>
    /// <exception cref="AzKvException">The server refused the request (e.g. a malformed cursor).</exception>
    public Task<KvChangeBatch> GetChangesAsync(string? prefix, string cursor, CancellationToken cancellationToken = default) =>
        GetChangesAsync(prefix, labelFilter: null, cursor, cancellationToken);

    /// <summary>As <see cref="GetChangesAsync(string?, string, CancellationToken)"/>, for the entries whose label passes <paramref name="labelFilter"/>.</summary>
    /// <param name="prefix">Only keys starting with this; null or empty for all.</param>
    /// <param name="labelFilter"><see cref="AzKvLabels.Any"/> (or null) for every label, a label, a comma list, and <see cref="AzKvLabels.Null"/> for the null label.</param>
    /// <param name="cursor">The cursor of an earlier batch, a watch or <see cref="GetWatchCursorAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<KvChangeBatch> GetChangesAsync(string? prefix, string? labelFilter, string cursor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cursor);
        var response = await PollAsync(prefix, labelFilter, cursor, TimeSpan.Zero, _maxRetries, cancellationToken).ConfigureAwait(false);
        var next = RequireCursor(response);
        var changes = response.Changes ?? [];
        var result = new KvChange[changes.Count];
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            result[i] = new KvChange(change.Key ?? string.Empty, ParseChangeType(change.Type), change.Etag, change.ContentType, change.Size, i == changes.Count - 1 ? next : cursor) { Label = change.Label };
        }

        return new KvChangeBatch(result, next);
    }
}
