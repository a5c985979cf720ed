namespace AzKv.Client;

/// <summary>
/// Where feature flags live in AzKv (docs/configuration-provider.md): one key per flag,
/// <c>.appconfig.featureflag/&lt;name&gt;</c>, whose value is the flag in the Microsoft feature-flag
/// schema (<c>{"id": "Beta", "enabled": true, "conditions": {"client_filters": [...]}, ...}</c>)
/// with the content type <see cref="ContentType"/>. The layout and content type are Azure App
/// Configuration's, so flags move between the two stores unchanged. The CLI (<c>azkv flag</c>) writes
/// flags here and the configuration provider reads them.
/// </summary>
public static class AzKvFeatureFlags
{
    /// <summary>The key prefix of every flag.</summary>
    public const string KeyPrefix = ".appconfig.featureflag/";

    /// <summary>The content type flags are stored with (a JSON document).</summary>
    public const string ContentType = "application/vnd.microsoft.appconfig.ff+json; charset=utf-8";

    /// <summary>The key of flag <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a valid flag name (<see cref="IsValidName"/>).</exception>
    public static string KeyFor(string name) =>
        IsValidName(name)
            ? KeyPrefix + name
            : throw new ArgumentException($"'{name}' is not a valid feature flag name: use letters, digits, '.', '-' and '_' (no ':' or '/', which configuration and keys treat as separators).", nameof(name));

    /// <summary>The flag name of <paramref name="key"/>, or null when the key is not a flag's.</summary>
    public static string? NameOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.StartsWith(KeyPrefix, StringComparison.Ordinal) && IsValidName(key[KeyPrefix.Length..])
            ? key[KeyPrefix.Length..]
            : null;
    }

    /// <summary>
    /// True for 1–256 characters of letters, digits, <c>.</c>, <c>-</c> and <c>_</c>: Microsoft.FeatureManagement
    /// refuses <c>:</c> in names, and <c>/</c> would make the flag look like a key path.
    /// </summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 256)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
