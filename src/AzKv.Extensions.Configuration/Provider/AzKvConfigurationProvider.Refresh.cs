using AzKv.Client;
using AzKv.Extensions.Configuration.Logging;
using AzKv.Extensions.Configuration.Mapping;

namespace AzKv.Extensions.Configuration.Provider;

internal sealed partial class AzKvConfigurationProvider
{
    /// <summary>
    /// First wait after a failed refresh; doubles per failure. Short, because an app started from
    /// its last-known-good copy should see AzKv again soon after it returns.
    /// </summary>
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest wait between full reloads while AzKv stays unreachable: one list per 15 s per
    /// app instance is a trickle even for a large fleet, and each attempt already retries inside
    /// the client for several seconds.
    /// </summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(15);

    /// <summary>The background task, for tests; null before it starts.</summary>
    internal Task? RefreshTask
    {
        get
        {
            lock (_lock)
            {
                return _refreshTask;
            }
        }
    }

    private void StartRefresh(Dictionary<string, string>? cursors)
    {
        lock (_lock)
        {
            if (_disposed || _refreshTask is not null)
            {
                return;
            }

            _refreshTask = Task.Run(() => RefreshAsync(cursors, _stopping.Token));
        }
    }

    /// <summary>
    /// The background task: a generation is a full load (when there are no cursors) followed by
    /// watching until something fails. Any failure ends the generation; the next one starts with a
    /// full load, so nothing is missed whatever broke. A watch rides out node restarts itself
    /// (the client resumes from its cursor), so a full load happens only after an expired cursor,
    /// a refused request or a requested reload.
    /// </summary>
    private async Task RefreshAsync(Dictionary<string, string>? cursors, CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            using var generation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            lock (_lock)
            {
                _generation = generation;
                if (_reloadRequested)
                {
                    _reloadRequested = false;
                    cursors = null;
                }
            }

            try
            {
                if (cursors is null)
                {
                    var (items, fresh) = await FetchAsync(generation.Token).ConfigureAwait(false);
                    var changed = ReplaceAll(items, DataOrigin.Store, raise: true);
                    Log.Reloaded(_logger, items.Count, FlagCount, changed ? "changed" : "unchanged");
                    await SaveCopyAsync(generation.Token).ConfigureAwait(false);
                    cursors = fresh;
                    failures = 0;
                }

                if (!_options.ReloadOnChange)
                {
                    return;
                }

                await WatchAllAsync(cursors, generation.Token).ConfigureAwait(false);
                cursors = null;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (generation.IsCancellationRequested)
            {
                // IConfigurationRoot.Reload() asked for a full reload.
                cursors = null;
            }
            catch (AzKvCursorExpiredException)
            {
                Log.CursorExpired(_logger, string.Join(", ", _selection.WatchPrefixes));
                cursors = null;
            }
            catch (Exception ex)
            {
                failures++;
                cursors = null;
                var delay = GetRetryDelay(failures);
                Log.RefreshFailed(_logger, ex, (long)delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _timeProvider, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                lock (_lock)
                {
                    _generation = null;
                }
            }
        }
    }

    /// <summary>Watches every watched prefix at once; returns (by exception) when any of them fails.</summary>
    private async Task WatchAllAsync(Dictionary<string, string> cursors, CancellationToken cancellationToken)
    {
        using var group = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watches = cursors.Select(entry => WatchPrefixAsync(entry.Key, entry.Value, group.Token)).ToArray();
        var first = await Task.WhenAny(watches).ConfigureAwait(false);
        await group.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(watches).ConfigureAwait(false);
        }
        catch (Exception) when (first.IsFaulted || first.IsCanceled)
        {
            // The others stopped because the first one did; its exception is the one that counts.
        }

        await first.ConfigureAwait(false);
    }

    /// <summary>
    /// Follows one prefix's changes. A response's changes are applied together: each change's key
    /// is read again (the watch carries no values), and the reload token is raised once, after the
    /// last change of the response (the one whose cursor moved on).
    /// </summary>
    private async Task WatchPrefixAsync(string prefix, string cursor, CancellationToken cancellationToken)
    {
        var responseCursor = cursor;
        var batch = new List<(string Key, StoredItem? Item)>();
        await foreach (var change in _client.WatchAsync(prefix, cursor, cancellationToken).ConfigureAwait(false))
        {
            if (_selection.IsSelected(change.Key))
            {
                var item = change.Type == KvChangeType.Delete ? null : await FetchItemAsync(change.Key, cancellationToken).ConfigureAwait(false);
                batch.Add((change.Key, item));
            }

            if (string.Equals(change.Cursor, responseCursor, StringComparison.Ordinal))
            {
                continue;
            }

            responseCursor = change.Cursor;
            if (batch.Count > 0)
            {
                Apply(batch);
                Log.ChangesApplied(_logger, batch.Count, prefix);
                batch.Clear();
                await SaveCopyAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>1 s, 2 s, 4 s ... up to <see cref="MaxRetryDelay"/>, with ±20 % jitter so a fleet does not retry in step.</summary>
    internal static TimeSpan GetRetryDelay(int failures)
    {
        var step = Math.Min(FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)), MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(step * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }
}
