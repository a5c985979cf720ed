using AzKv.Client;

namespace AzKv.Extensions.Configuration.Mapping;

/// <summary>
/// Which AzKv keys a provider loads: the selected prefixes (settings) and, when feature flags are
/// on, the flag keys under <see cref="AzKvFeatureFlags.KeyPrefix"/>. Immutable.
/// </summary>
internal sealed class KeySelection
{
    public KeySelection(IReadOnlyList<string> prefixes, string? flagNamePrefix)
        : this([.. prefixes.Select(p => new LabelSelection(p, null))], flagNamePrefix, [])
    {
    }

    public KeySelection(IReadOnlyList<LabelSelection> selections, string? flagNamePrefix, IReadOnlyList<string> trimPrefixes)
    {
        Selections = selections;
        TrimPrefixes = trimPrefixes;
        Prefixes = [.. selections.Where(s => s.Snapshot is null).Select(s => s.Prefix)];
        Snapshots = [.. selections.Where(s => s.Snapshot is not null).Select(s => s.Snapshot!).Distinct(StringComparer.Ordinal)];
        FlagKeyPrefix = flagNamePrefix is null ? null : AzKvFeatureFlags.KeyPrefix + flagNamePrefix;
        WatchPrefixes = Cover([.. Prefixes, .. FlagKeyPrefix is null ? Array.Empty<string>() : [FlagKeyPrefix]]);
    }

    /// <summary>The (prefix, label) selections in the order they were made (later ones win on conflicts).</summary>
    public IReadOnlyList<LabelSelection> Selections { get; }

    /// <summary>Prefixes trimmed from keys explicitly (<c>TrimKeyPrefix</c>), in the order given; the first that matches is trimmed.</summary>
    public IReadOnlyList<string> TrimPrefixes { get; }

    /// <summary>The settings prefixes in the order they were selected (later ones win on conflicts).</summary>
    public IReadOnlyList<string> Prefixes { get; }

    /// <summary>The snapshots selected (<c>SelectSnapshot</c>), loaded once per full load and never watched.</summary>
    public IReadOnlyList<string> Snapshots { get; }

    /// <summary>
    /// The provider's name of an item of snapshot <paramref name="snapshot"/>: U+0001, the name, U+0001, the key. Keys never hold
    /// control characters, so it cannot meet a live entry (nor be selected by a watch change).
    /// </summary>
    public static string SnapshotEntry(string snapshot, string key) => SnapshotEntryPrefix(snapshot) + key;

    /// <summary>What every item of snapshot <paramref name="snapshot"/> starts with.</summary>
    public static string SnapshotEntryPrefix(string snapshot) => "\u0001" + snapshot + "\u0001";

    /// <summary>The provider's name of an entry: the key, or <c>key U+0000 label</c> (as the server's entry keys).</summary>
    public static string EntryKey(string key, string? label) => label is null ? key : key + "\0" + label;

    /// <summary>Splits an entry name into key and label (null: the null label).</summary>
    public static (string Key, string? Label) Split(string entry)
    {
        var at = entry.IndexOf('\0', StringComparison.Ordinal);
        return at < 0 ? (entry, null) : (entry[..at], entry[(at + 1)..]);
    }

    /// <summary>The key prefix of the flags to load; null when flags are off.</summary>
    public string? FlagKeyPrefix { get; }

    /// <summary>
    /// The fewest prefixes whose listings and watches see every selected key (a prefix inside
    /// another is dropped); what they bring that is not selected is filtered out.
    /// </summary>
    public IReadOnlyList<string> WatchPrefixes { get; }

    /// <summary>True when the entry (<see cref="EntryKey"/>) is a setting or flag this provider loads.</summary>
    public bool IsSelected(string entry)
    {
        var (key, label) = Split(entry);
        return (label is null && IsFlag(key)) || Selections.Any(s => s.Snapshot is null && string.Equals(s.Label, label, StringComparison.Ordinal) && IsSettingUnder(key, s.Prefix));
    }

    /// <summary>True when the entry is a selected flag (flags are read from the null label).</summary>
    public bool IsFlag(string entry) => FlagKeyPrefix is not null && entry.StartsWith(FlagKeyPrefix, StringComparison.Ordinal) && !entry.Contains('\0', StringComparison.Ordinal);

    /// <summary>The configuration path of a key loaded by <paramref name="selection"/>: an explicit trim prefix, else the selection's prefix, removed.</summary>
    public string PathOf(string key, LabelSelection selection)
    {
        foreach (var trim in TrimPrefixes)
        {
            if (key.StartsWith(trim, StringComparison.Ordinal))
            {
                return key[trim.Length..].TrimStart('/').Replace('/', ':');
            }
        }

        return key[selection.Prefix.Length..].TrimStart('/').Replace('/', ':');
    }

    /// <summary>
    /// True when <paramref name="key"/> falls under settings prefix <paramref name="prefix"/>. Flag
    /// keys are never settings unless the prefix itself names the flag area explicitly.
    /// </summary>
    public static bool IsSettingUnder(string key, string prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal)
        && (!key.StartsWith(AzKvFeatureFlags.KeyPrefix, StringComparison.Ordinal) || prefix.StartsWith(AzKvFeatureFlags.KeyPrefix, StringComparison.Ordinal));

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

/// <summary>One <c>Select(prefix, label)</c>: the keys under <paramref name="Prefix"/> with label <paramref name="Label"/> (null: the null label).</summary>
internal sealed record LabelSelection(string Prefix, string? Label)
{
    /// <summary>For <c>SelectSnapshot(name)</c>: the snapshot's name (then <see cref="Prefix"/> is empty and <see cref="Label"/> null).</summary>
    public string? Snapshot { get; init; }
}
