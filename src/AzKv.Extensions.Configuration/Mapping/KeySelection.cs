using AzKv.Client;

namespace AzKv.Extensions.Configuration.Mapping;

/// <summary>
/// Which AzKv keys a provider loads: the selected prefixes (settings) and, when feature flags are
/// on, the flag keys under <see cref="AzKvFeatureFlags.KeyPrefix"/>. Immutable.
/// </summary>
internal sealed class KeySelection
{
    public KeySelection(IReadOnlyList<string> prefixes, string? flagNamePrefix)
    {
        Prefixes = prefixes;
        FlagKeyPrefix = flagNamePrefix is null ? null : AzKvFeatureFlags.KeyPrefix + flagNamePrefix;
        WatchPrefixes = Cover([.. prefixes, .. FlagKeyPrefix is null ? Array.Empty<string>() : [FlagKeyPrefix]]);
    }

    /// <summary>The settings prefixes in the order they were selected (later ones win on conflicts).</summary>
    public IReadOnlyList<string> Prefixes { get; }

    /// <summary>The key prefix of the flags to load; null when flags are off.</summary>
    public string? FlagKeyPrefix { get; }

    /// <summary>
    /// The fewest prefixes whose listings and watches see every selected key (a prefix inside
    /// another is dropped); what they bring that is not selected is filtered out.
    /// </summary>
    public IReadOnlyList<string> WatchPrefixes { get; }

    /// <summary>True when <paramref name="key"/> is a setting or flag this provider loads.</summary>
    public bool IsSelected(string key) => IsFlag(key) || SettingPrefixOf(key) is not null;

    /// <summary>True when <paramref name="key"/> is a selected flag.</summary>
    public bool IsFlag(string key) => FlagKeyPrefix is not null && key.StartsWith(FlagKeyPrefix, StringComparison.Ordinal);

    /// <summary>
    /// True when <paramref name="key"/> falls under settings prefix <paramref name="prefix"/>. Flag
    /// keys are never settings unless the prefix itself names the flag area explicitly.
    /// </summary>
    public static bool IsSettingUnder(string key, string prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal)
        && (!key.StartsWith(AzKvFeatureFlags.KeyPrefix, StringComparison.Ordinal) || prefix.StartsWith(AzKvFeatureFlags.KeyPrefix, StringComparison.Ordinal));

    private string? SettingPrefixOf(string key)
    {
        foreach (var prefix in Prefixes)
        {
            if (IsSettingUnder(key, prefix))
            {
                return prefix;
            }
        }

        return null;
    }

    private static string[] Cover(IReadOnlyList<string> prefixes)
    {
        var ordered = prefixes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var cover = new List<string>();
        foreach (var prefix in ordered)
        {
            if (!cover.Any(p => prefix.StartsWith(p, StringComparison.Ordinal)))
            {
                cover.Add(prefix);
            }
        }

        return [.. cover];
    }
}
