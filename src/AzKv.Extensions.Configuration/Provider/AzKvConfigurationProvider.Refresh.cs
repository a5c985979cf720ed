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

    private Task? _secretTask;

    /// <summary>Starts the secret refresh loop once, when Key Vault references are configured and changes are followed.</summary>
    private void StartSecretRefresh()
    {
        lock (_lock)
        {
            if (_disposed || _secretTask is not null || _options.KeyVault is null || !_options.ReloadOnChange)
            {
                return;
            }

            _secretTask = Task.Run(() => RefreshSecretsLoopAsync(_stopping.Token));
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

            _refreshTask = _options.Refresh.Watch
                ? Task.Run(() => RefreshAsync(cursors, _stopping.Token))
                : Task.Run(() => PollAsync(needLoad: cursors is null, _stopping.Token));
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
                    cursors = await ReloadAllAsync(generation.Token).ConfigureAwait(false);
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
    /// Follows one prefix's changes. A response's changes are applied together: each changed key
    /// is read again (the watch carries no values) and the reload token is raised once, after the
    /// last change of the response (the one whose cursor moved on).
    /// </summary>
    private async Task WatchPrefixAsync(string prefix, string cursor, CancellationToken cancellationToken)
    {
        var responseCursor = cursor;
        var keys = new Dictionary<string, KvChangeType>(StringComparer.Ordinal);
        await foreach (var change in _client.WatchAsync(prefix, AzKvLabels.Any, cursor, cancellationToken).ConfigureAwait(false))
        {
            var entry = KeySelection.EntryKey(change.Key, change.Label);
            if (_selection.IsSelected(entry))
            {
                keys[entry] = change.Type;
            }

            if (string.Equals(change.Cursor, responseCursor, StringComparison.Ordinal))
            {
                continue;
            }

            responseCursor = change.Cursor;
            await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await ApplyChangedKeysAsync(prefix, keys, cancellationToken).ConfigureAwait(false);
                UpdateCursor(prefix, responseCursor);
            }
            finally
            {
                _applyGate.Release();
            }

            keys.Clear();
        }
    }

    /// <summary>
    /// The background task when the watch is off: a check every refresh interval (a full load
    /// first when the data came from the copy or nothing), backing off sooner after a failure.
    /// </summary>
    private async Task PollAsync(bool needLoad, CancellationToken stopping)
    {
        var interval = _options.Refresh.RefreshInterval;
        var delay = needLoad ? TimeSpan.Zero : interval;
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
                    needLoad = true;
                    delay = TimeSpan.Zero;
                }
            }

            try
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _timeProvider, generation.Token).ConfigureAwait(false);
                }

                if (needLoad)
                {
                    await ReloadAllAsync(generation.Token).ConfigureAwait(false);
                    needLoad = false;
                }
                else
                {
                    await CheckAsync(onlyIfDue: false, generation.Token).ConfigureAwait(false);
                }

                failures = 0;
                if (!_options.ReloadOnChange)
                {
                    return;
                }

                delay = interval;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (generation.IsCancellationRequested)
            {
                // IConfigurationRoot.Reload() asked for a full reload (seen at the top of the loop).
                delay = TimeSpan.Zero;
            }
            catch (Exception ex)
            {
                failures++;
                delay = GetRetryDelay(failures);
                delay = delay < interval ? delay : interval;
                Log.RefreshFailed(_logger, ex, (long)delay.TotalMilliseconds);
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

    /// <summary>What <see cref="IConfigurationRefresher.RefreshAsync"/> runs: a check when one is due.</summary>
    internal Task RefreshOnDemandAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return IsCheckDue() ? CheckAsync(onlyIfDue: true, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>What <see cref="IConfigurationRefresher.TryRefreshAsync"/> runs: false (logged) instead of an exception when AzKv is unavailable.</summary>
    internal async Task<bool> TryRefreshOnDemandAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshOnDemandAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            Log.RefreshOnDemandFailed(_logger, ex);
            return false;
        }
    }

    /// <summary>
    /// Reads the changes after the provider's cursors without waiting and applies them; a full
    /// load when there are no cursors (started from the copy) or they expired (a wiped store).
    /// </summary>
    private async Task CheckAsync(bool onlyIfDue, CancellationToken cancellationToken)
    {
        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Dictionary<string, string>? cursors;
            lock (_lock)
            {
                cursors = _cursors;
            }

            // Callers that queued behind a check that just ran have nothing left to do.
            if (onlyIfDue && !IsCheckDue())
            {
                return;
            }

            if (cursors is null)
            {
                await ReloadAllCoreAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            var keys = new Dictionary<string, KvChangeType>(StringComparer.Ordinal);
            var next = new Dictionary<string, string>(cursors, StringComparer.Ordinal);
            try
            {
                foreach (var (prefix, start) in cursors)
                {
                    var cursor = start;
                    while (true)
                    {
                        var batch = await _client.GetChangesAsync(prefix, AzKvLabels.Any, cursor, cancellationToken).ConfigureAwait(false);
                        foreach (var change in batch.Changes)
                        {
                            var entry = KeySelection.EntryKey(change.Key, change.Label);
                            if (_selection.IsSelected(entry))
                            {
                                keys[entry] = change.Type;
                            }
                        }

                        var drained = batch.Changes.Count == 0 || string.Equals(batch.Cursor, cursor, StringComparison.Ordinal);
                        cursor = batch.Cursor;
                        if (drained)
                        {
                            break;
                        }
                    }

                    next[prefix] = cursor;
                }
            }
            catch (AzKvCursorExpiredException)
            {
                Log.CursorExpired(_logger, string.Join(", ", _selection.WatchPrefixes));
                await ReloadAllCoreAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            await ApplyChangedKeysAsync(string.Join(", ", cursors.Keys), keys, cancellationToken).ConfigureAwait(false);
            SetCursors(next);
            await RefreshDueSecretsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>Reads the changed keys again, applies them together and raises the reload token. Under <see cref="_applyGate"/>.</summary>
    private async Task ApplyChangedKeysAsync(string prefix, Dictionary<string, KvChangeType> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return;
        }

        var batch = new List<(string Key, StoredItem? Item)>(keys.Count);
        foreach (var (key, type) in keys)
        {
            var item = type == KvChangeType.Delete ? null : await FetchItemAsync(key, cancellationToken).ConfigureAwait(false);
            batch.Add((key, item));
        }

        await ResolveReferencesAsync(batch.Where(b => b.Item is not null).Select(b => b.Item!), strict: false, all: true, cancellationToken).ConfigureAwait(false);
        Apply(batch);
        Log.ChangesApplied(_logger, batch.Count, prefix);
        await SaveCopyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A full load (cursors, then every key), applied under <see cref="_applyGate"/>; returns the new cursors.</summary>
    private async Task<Dictionary<string, string>> ReloadAllAsync(CancellationToken cancellationToken)
    {
        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReloadAllCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _applyGate.Release();
        }
    }

    private async Task<Dictionary<string, string>> ReloadAllCoreAsync(CancellationToken cancellationToken)
    {
        var (items, cursors) = await FetchAsync(cancellationToken).ConfigureAwait(false);
        await ResolveReferencesAsync(items.Values, strict: false, all: false, cancellationToken).ConfigureAwait(false);
        var changed = ReplaceAll(items, DataOrigin.Store, raise: true);
        SetCursors(cursors);
        Log.Reloaded(_logger, items.Count, FlagCount, changed ? "changed" : "unchanged");
        await SaveCopyAsync(cancellationToken).ConfigureAwait(false);
        return cursors;
    }

    /// <summary>Records the cursors every selected key is current at, and the time of the check.</summary>
    private void SetCursors(Dictionary<string, string> cursors)
    {
        lock (_lock)
        {
            _cursors = cursors;
            _lastCheck = _timeProvider.GetUtcNow();
        }
    }

    /// <summary>Moves one prefix's cursor on (the watch applied a response).</summary>
    private void UpdateCursor(string prefix, string cursor)
    {
        lock (_lock)
        {
            if (_cursors is not null)
            {
                _cursors = new Dictionary<string, string>(_cursors, StringComparer.Ordinal) { [prefix] = cursor };
            }
        }
    }

    /// <summary>True when the last check is older than the refresh interval (or there was none).</summary>
    private bool IsCheckDue()
    {
        lock (_lock)
        {
            return _lastCheck is not { } last || _timeProvider.GetUtcNow() - last >= _options.Refresh.RefreshInterval;
        }
    }

    /// <summary>1 s, 2 s, 4 s ... up to <see cref="MaxRetryDelay"/>, with ±20 % jitter so a fleet does not retry in step.</summary>
    internal static TimeSpan GetRetryDelay(int failures)
    {
        var step = Math.Min(FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)), MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(step * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }
}
