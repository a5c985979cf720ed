using System.Text;
using AzKv.Extensions.Configuration.KeyVault;
using AzKv.Extensions.Configuration.Logging;
using AzKv.Extensions.Configuration.Mapping;

namespace AzKv.Extensions.Configuration.Provider;

/// <summary>A resolved Key Vault reference: the secret it pointed at, its value, and when it was read.</summary>
internal sealed record ResolvedSecret(Uri SecretUri, string Value, DateTimeOffset ReadAt);

internal sealed partial class AzKvConfigurationProvider
{
    // Guarded by _lock; replaced, never changed in place. By AzKv key.
    private Dictionary<string, ResolvedSecret> _secrets = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads the secrets of the references among <paramref name="items"/> that are new, point
    /// elsewhere than before, or are older than the secret refresh interval (all of them when
    /// <paramref name="all"/>). Strict (the first load): a failure throws
    /// <see cref="AzKvKeyVaultReferenceException"/>. Otherwise a failure is logged (event 8015) and
    /// the key keeps its last secret, if it had one. Returns whether a secret value changed.
    /// </summary>
    private async Task<bool> ResolveReferencesAsync(IEnumerable<StoredItem> items, bool strict, bool all, CancellationToken cancellationToken)
    {
        Dictionary<string, ResolvedSecret> current;
        lock (_lock)
        {
            current = _secrets;
        }

        Dictionary<string, ResolvedSecret>? updated = null;
        var changed = false;
        var now = _timeProvider.GetUtcNow();
        var interval = _options.KeyVault?.SecretRefreshInterval ?? AzKvKeyVaultOptions.DefaultSecretRefreshInterval;
        foreach (var item in items)
        {
            if (!KeyVaultReference.IsReference(item.ContentType))
            {
                continue;
            }

            AzKvKeyVaultReferenceException failure;
            Uri? secretUri = null;
            try
            {
                if (!KeyVaultReference.TryParse(item.Value, out secretUri, out var reason))
                {
                    throw new AzKvKeyVaultReferenceException(item.Key, null, reason + ".");
                }

                if (!all && current.TryGetValue(item.Key, out var known) && known.SecretUri == secretUri && now - known.ReadAt < interval)
                {
                    continue;
                }

                var value = await _secretResolver.ResolveAsync(item.Key, secretUri!, cancellationToken).ConfigureAwait(false);
                updated ??= new Dictionary<string, ResolvedSecret>(current, StringComparer.Ordinal);
                changed |= !current.TryGetValue(item.Key, out var before) || !string.Equals(before.Value, value, StringComparison.Ordinal);
                updated[item.Key] = new ResolvedSecret(secretUri!, value, _timeProvider.GetUtcNow());
                continue;
            }
            catch (AzKvKeyVaultReferenceException ex)
            {
                failure = ex;
            }

            if (strict)
            {
                throw failure;
            }

            Log.SecretUnresolved(_logger, failure, item.Key, secretUri?.ToString() ?? "(malformed reference)");
        }

        if (updated is not null)
        {
            lock (_lock)
            {
                _secrets = updated;
            }
        }

        return changed;
    }

    /// <summary>Reads again the secrets older than the refresh interval; rebuilds and raises the reload token when one changed. Under <see cref="_applyGate"/>.</summary>
    private async Task RefreshDueSecretsAsync(CancellationToken cancellationToken)
    {
        if (_options.KeyVault is null)
        {
            return;
        }

        StoredItem[] items;
        lock (_lock)
        {
            items = [.. _items.Values];
        }

        if (await ResolveReferencesAsync(items, strict: false, all: false, cancellationToken).ConfigureAwait(false))
        {
            bool rebuilt;
            lock (_lock)
            {
                rebuilt = Rebuild();
            }

            if (rebuilt)
            {
                OnReload();
            }
        }
    }

    /// <summary>The background secret refresh: every secret refresh interval, while Key Vault references are configured.</summary>
    private async Task RefreshSecretsLoopAsync(CancellationToken stopping)
    {
        var interval = _options.KeyVault!.SecretRefreshInterval;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _timeProvider, stopping).ConfigureAwait(false);
                await _applyGate.WaitAsync(stopping).ConfigureAwait(false);
                try
                {
                    await RefreshDueSecretsAsync(stopping).ConfigureAwait(false);
                }
                finally
                {
                    _applyGate.Release();
                }
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The items as the mapping sees them: a Key Vault reference becomes its secret as text (no
    /// JSON expansion), or is left out while it has none. Under <see cref="_lock"/>.
    /// </summary>
    private IReadOnlyDictionary<string, StoredItem> WithSecrets(Dictionary<string, StoredItem> items)
    {
        if (!items.Values.Any(i => KeyVaultReference.IsReference(i.ContentType)))
        {
            return items;
        }

        var view = new Dictionary<string, StoredItem>(items.Count, StringComparer.Ordinal);
        foreach (var (key, item) in items)
        {
            if (!KeyVaultReference.IsReference(item.ContentType))
            {
                view[key] = item;
            }
            else if (_secrets.TryGetValue(key, out var secret))
            {
                view[key] = new StoredItem(key, "text/plain", Encoding.UTF8.GetBytes(secret.Value));
            }
        }

        return view;
    }
}
