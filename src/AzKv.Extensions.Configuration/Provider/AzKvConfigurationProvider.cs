using System.Diagnostics;
using AzKv.Client;
using AzKv.Extensions.Configuration.Cache;
using AzKv.Extensions.Configuration.KeyVault;
using AzKv.Extensions.Configuration.Logging;
using AzKv.Extensions.Configuration.Mapping;
using AzKv.Extensions.Configuration.Refresh;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Extensions.Configuration.Provider;

/// <summary>Where the provider's current data came from.</summary>
internal enum DataOrigin
{
    /// <summary>Nothing loaded (an optional provider that found neither AzKv nor a copy).</summary>
    None,

    /// <summary>The last-known-good copy on disk, while AzKv is unreachable.</summary>
    LastKnownGood,

    /// <summary>AzKv itself.</summary>
    Store,
}

/// <summary>
/// The AzKv configuration provider: the first <see cref="Load"/> lists the selected keys (or falls
/// back to the last-known-good copy), then one background task per provider keeps them current
/// from the watch stream (AzKvClient.WatchAsync: one long poll per watched prefix, no polling of
/// keys, no sentinel key) and raises the reload token after each batch of changes. Partial files:
/// this one loads and holds the data; <c>.Refresh.cs</c> runs the background task.
/// </summary>
internal sealed partial class AzKvConfigurationProvider : ConfigurationProvider, IDisposable
{
    private readonly AzKvConfigurationOptions _options;
    private readonly KeySelection _selection;
    private readonly AzKvClient _client;
    private readonly LastKnownGoodCache? _cache;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string _endpointList;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();

    /// <summary>
    /// Serializes whatever reads keys and applies them (full loads, watch batches, checks), so a
    /// slower read can never overwrite a newer value with an older one.
    /// </summary>
    private readonly SemaphoreSlim _applyGate = new(1, 1);
    private readonly SecretResolver _secretResolver;

    // Guarded by _lock.
    private Dictionary<string, StoredItem> _items = new(StringComparer.Ordinal);
    private Dictionary<string, string>? _cursors;
    private DateTimeOffset? _lastCheck;
    private Task? _refreshTask;
    private CancellationTokenSource? _generation;
    private bool _reloadRequested;
    private bool _disposed;

    public AzKvConfigurationProvider(AzKvConfigurationOptions options, string cacheDirectory)
    {
        _options = options;
        var clientOptions = options.BuildClientOptions();
        _selection = new KeySelection(options.EffectiveSelections(), options.FlagNamePrefix, options.TrimPrefixes);
        _timeProvider = options.TimeProvider;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AzKv.Extensions.Configuration");
        _endpointList = string.Join(", ", clientOptions.Endpoints.Select(e => e.GetLeftPart(UriPartial.Path).TrimEnd('/')));
        if (options.UseLastKnownGoodCopy)
        {
            var selection = string.Join('\n', _endpointList, string.Join('\u0001', _selection.Selections.Select(s => s.Snapshot is not null ? "\u0003" + s.Snapshot : s.Label is null ? s.Prefix : s.Prefix + "\u0002" + s.Label)), string.Join('\u0001', _selection.TrimPrefixes), _selection.FlagKeyPrefix ?? "-");
            _cache = new LastKnownGoodCache(cacheDirectory, selection, _timeProvider, _logger);
        }

        _client = new AzKvClient(clientOptions);
        _secretResolver = new SecretResolver(options.KeyVault);
        options.Refresher.Attach(this, clientOptions.Endpoints);
        Refresher = options.Refresher;
    }

    /// <summary>This provider's manual refresher (the same object as the options' <c>GetRefresher()</c>).</summary>
    internal IConfigurationRefresher Refresher { get; }

    /// <summary>Where the current data came from.</summary>
    internal DataOrigin Origin { get; private set; }

    /// <summary>How many flags the current data holds.</summary>
    internal int FlagCount { get; private set; }

    /// <summary>The last-known-good file; null when the copy is off.</summary>
    internal string? CacheFilePath => _cache?.FilePath;

    /// <summary>
    /// The first call loads the settings (AzKv, else the last-known-good copy, else empty when
    /// optional, else throws); later calls (<c>IConfigurationRoot.Reload()</c>) ask the background
    /// task for a full reload, whose result arrives through the reload token.
    /// </summary>
    /// <exception cref="InvalidOperationException">AzKv could not be reached, there is no copy, and the provider is not optional.</exception>
    public override void Load()
    {
        var restart = false;
        var requested = false;
        CancellationTokenSource? running = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_refreshTask is { IsCompleted: false })
            {
                _reloadRequested = true;
                requested = true;
                running = _generation;
            }
            else if (_refreshTask is not null)
            {
                // The task ended (ReloadOnChange is off): run it once more for one full load.
                _refreshTask = null;
                restart = true;
            }
        }

        if (requested)
        {
            // Cancelled outside the lock: cancellation callbacks may run continuations inline.
            try
            {
                running?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That generation just ended; the next one sees _reloadRequested.
            }

            return;
        }

        if (restart)
        {
            StartRefresh(cursors: null);
            return;
        }

        // IConfigurationProvider.Load is synchronous and the app must not start before its
        // settings are there: the one blocking wait, on the thread pool so no synchronization
        // context can deadlock it.
        Task.Run(() => LoadFirstAsync(_stopping.Token)).GetAwaiter().GetResult();
    }

    /// <summary>Stops the background task and releases the client.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stopping.Cancel();
        _client.Dispose();
    }

    /// <summary>The first load: AzKv within the startup timeout, else the copy, else empty (optional), else an error.</summary>
    internal async Task LoadFirstAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var startup = new CancellationTokenSource(_options.StartupTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, startup.Token);
        Exception failure;
        try
        {
            Dictionary<string, StoredItem> items;
            Dictionary<string, string> cursors;
            await _applyGate.WaitAsync(linked.Token).ConfigureAwait(false);
            try
            {
                (items, cursors) = await FetchAsync(linked.Token).ConfigureAwait(false);

                // A reference that cannot be resolved fails the start, naming the key and the secret.
                await ResolveReferencesAsync(items.Values, strict: true, all: true, linked.Token).ConfigureAwait(false);
                ReplaceAll(items, DataOrigin.Store, raise: false);
                SetCursors(cursors);
            }
            finally
            {
                _applyGate.Release();
            }

            Log.Loaded(_logger, items.Count, FlagCount, _endpointList, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await SaveCopyAsync(cancellationToken).ConfigureAwait(false);
            if (_options.ReloadOnChange)
            {
                StartRefresh(cursors);
            }

            StartSecretRefresh();
            return;
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            failure = ex;
        }

        var reason = Describe(failure, startup.IsCancellationRequested);
        if (Origin == DataOrigin.Store)
        {
            // A reload (ReloadOnChange off) that failed: the settings already loaded stay.
            Log.ManualReloadFailed(_logger, reason);
            return;
        }

        var copy = _cache is null ? null : await _cache.TryReadAsync(cancellationToken).ConfigureAwait(false);
        if (copy is { } found)
        {
            await ResolveReferencesAsync(found.Items.Values, strict: false, all: true, cancellationToken).ConfigureAwait(false);
            ReplaceAll(new Dictionary<string, StoredItem>(found.Items, StringComparer.Ordinal), DataOrigin.LastKnownGood, raise: false);
            Log.StartedFromCache(_logger, reason, _cache!.FilePath, found.SavedAt);
            StartRefresh(cursors: null);
            StartSecretRefresh();
            return;
        }

        if (_options.Optional)
        {
            Log.StartedEmpty(_logger, reason, _cache?.FilePath ?? "(off)");
            StartRefresh(cursors: null);
            return;
        }

        var copyNote = _cache is null
            ? "The last-known-good copy is off (UseLastKnownGoodCopy = false)."
            : $"There is no last-known-good copy at {_cache.FilePath} to start from.";
        throw new InvalidOperationException(
            $"AzKv configuration could not be loaded from {_endpointList}: {reason}. {copyNote} " +
            "Start AzKv (e.g. `azkv up`), check the endpoints given to Connect, or set Optional = true in AddAzKv to start without these settings.",
            failure);
    }

    /// <summary>Takes a watch cursor per watched prefix, then lists every selected key with its value.</summary>
    private async Task<(Dictionary<string, StoredItem> Items, Dictionary<string, string> Cursors)> FetchAsync(CancellationToken cancellationToken)
    {
        // Cursors first: the watch (or the next check) then replays anything written while the
        // listing ran. Taken even without ReloadOnChange, so a manual refresh reads only changes.
        var cursors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prefix in _selection.WatchPrefixes)
        {
            cursors[prefix] = await _client.GetWatchCursorAsync(prefix, cancellationToken).ConfigureAwait(false);
        }

        var items = new Dictionary<string, StoredItem>(StringComparer.Ordinal);
        foreach (var prefix in _selection.WatchPrefixes)
        {
            await foreach (var item in _client.ListAsync(prefix, AzKvLabels.Any, AzKvClient.MaxPageSize, includeValues: true, cancellationToken).ConfigureAwait(false))
            {
                var entry = KeySelection.EntryKey(item.Key, item.Label);
                if (_selection.IsSelected(entry))
                {
                    items[entry] = new StoredItem(entry, item.ContentType, item.Value?.ToArray() ?? []);
                }
            }
        }

        // Snapshots never change: read whole on each full load, never watched.
        foreach (var snapshot in _selection.Snapshots)
        {
            await foreach (var item in _client.GetSnapshotItemsAsync(snapshot, includeValues: true, AzKvClient.MaxPageSize, cancellationToken).ConfigureAwait(false))
            {
                var entry = KeySelection.SnapshotEntry(snapshot, item.Key);
                items[entry] = new StoredItem(entry, item.ContentType, item.Value?.ToArray() ?? []);
            }
        }

        return (items, cursors);
    }

    /// <summary>Reads one key for a watch change; null when it is gone. Siblings: the newest wins (logged).</summary>
    private async Task<StoredItem?> FetchItemAsync(string key, CancellationToken cancellationToken)
    {
        var (name, label) = KeySelection.Split(key);
        var entry = await _client.GetAsync(name, label, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return null;
        }

        if (entry.HasSiblings)
        {
            Log.Siblings(_logger, key, entry.Siblings.Count);
            var newest = entry.Siblings.MaxBy(s => s.Hlc)!;
            return new StoredItem(key, newest.ContentType, newest.Value.ToArray());
        }

        return new StoredItem(key, entry.ContentType, entry.Value.ToArray());
    }

    /// <summary>Replaces every key; raises the reload token when the configuration changed. Returns whether it did.</summary>
    private bool ReplaceAll(Dictionary<string, StoredItem> items, DataOrigin origin, bool raise)
    {
        bool changed;
        lock (_lock)
        {
            _items = items;
            changed = Rebuild();
            Origin = origin;
        }

        if (raise && changed)
        {
            OnReload();
        }

        return changed;
    }

    /// <summary>Applies changed keys (null: deleted) and raises the reload token.</summary>
    private void Apply(IReadOnlyList<(string Key, StoredItem? Item)> changes)
    {
        lock (_lock)
        {
            foreach (var (key, item) in changes)
            {
                if (item is null)
                {
                    _items.Remove(key);
                }
                else
                {
                    _items[key] = item;
                }
            }

            Rebuild();
            Origin = DataOrigin.Store;
        }

        OnReload();
    }

    /// <summary>Maps the items into a new data dictionary and swaps it in. Under <see cref="_lock"/>.</summary>
    private bool Rebuild()
    {
        var data = ConfigurationMapper.Map(_selection, WithSecrets(_items), _logger, out var flagCount);
        var changed = !ConfigurationMapper.AreEqual(Data, data);
        Data = data;
        FlagCount = flagCount;
        return changed;
    }

    private async Task SaveCopyAsync(CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return;
        }

        StoredItem[] snapshot;
        lock (_lock)
        {
            snapshot = [.. _items.Values];
        }

        await _cache.WriteAsync(snapshot, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Failures that mean "AzKv is not there right now", as opposed to bugs or shutdown.</summary>
    private static bool IsUnavailable(Exception ex, CancellationToken cancellationToken) =>
        ex is AzKvException or HttpRequestException or TimeoutException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private string Describe(Exception ex, bool timedOut) =>
        timedOut || ex is OperationCanceledException
            ? $"no answer within the startup timeout of {_options.StartupTimeout.TotalSeconds:0.#} s"
            : ex.Message;
}
