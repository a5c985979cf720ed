using System.Globalization;
using System.Text;
using System.Text.Json;
using AzKv.Client;
using AzKv.Extensions.Configuration.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AzKv.Extensions.Configuration.Mapping;

/// <summary>
/// Turns the stored keys into configuration data (docs/configuration-provider.md):
/// <list type="bullet">
/// <item>a setting's key loses its selected prefix (and a leading <c>/</c>), and <c>/</c> becomes <c>:</c>
/// (<c>myapp/Logging/LogLevel/Default</c> under <c>myapp/</c> → <c>Logging:LogLevel:Default</c>);</item>
/// <item>a JSON value (<c>application/json</c> or any <c>+json</c> type) is expanded into nested keys the
/// way the JSON file provider does (objects by name, arrays by index);</item>
/// <item>each flag becomes <c>feature_management:feature_flags:{index}:...</c>, indexes in key order, as
/// Microsoft.FeatureManagement 4.x reads them.</item>
/// </list>
/// Pure: same input, same output. Later prefixes override earlier ones.
/// </summary>
internal static class ConfigurationMapper
{
    /// <summary>Where Microsoft.FeatureManagement 4.x looks for flags in the Microsoft schema.</summary>
    public const string FlagsSection = "feature_management:feature_flags";

    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>The configuration data of <paramref name="items"/> under <paramref name="selection"/>.</summary>
    public static Dictionary<string, string?> Map(KeySelection selection, IReadOnlyDictionary<string, StoredItem> items, ILogger logger, out int flagCount)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var ordered = items.Values.OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
        // Selections in order, so a later one overwrites an earlier one's setting (App Configuration's stacking).
        foreach (var chosen in selection.Selections)
        {
            if (chosen.Snapshot is { } snapshot)
            {
                // A snapshot's items, full keys as paths (explicit TrimKeyPrefix applies), as App Configuration loads one.
                var start = KeySelection.SnapshotEntryPrefix(snapshot);
                foreach (var item in ordered)
                {
                    if (item.Key.StartsWith(start, StringComparison.Ordinal))
                    {
                        AddValue(data, selection.PathOf(item.Key[start.Length..], chosen), item, logger);
                    }
                }

                continue;
            }

            foreach (var item in ordered)
            {
                var (key, label) = KeySelection.Split(item.Key);
                if (!string.Equals(label, chosen.Label, StringComparison.Ordinal) || !KeySelection.IsSettingUnder(key, chosen.Prefix))
                {
                    continue;
                }

                AddValue(data, selection.PathOf(key, chosen), item, logger);
            }
        }

        flagCount = 0;
        foreach (var item in ordered)
        {
            if (selection.IsFlag(item.Key) && AddFlag(data, flagCount, item, logger))
            {
                flagCount++;
            }
        }

        return data;
    }

    /// <summary><c>myapp/Logging/LogLevel</c> under <c>myapp/</c> → <c>Logging:LogLevel</c>.</summary>
    public static string ToConfigurationPath(string key, string prefix) =>
        key[prefix.Length..].TrimStart('/').Replace('/', ':');

    /// <summary>True for <c>application/json</c> and structured-syntax <c>+json</c> types, parameters ignored.</summary>
    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Records whether two data sets are the same (keys ignoring case, values ordinal).</summary>
    public static bool AreEqual(IDictionary<string, string?> left, IDictionary<string, string?> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        foreach (var (key, value) in left)
        {
            if (!right.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static void AddValue(Dictionary<string, string?> data, string path, StoredItem item, ILogger logger)
    {
        var text = Encoding.UTF8.GetString(item.Value);
        if (IsJson(item.ContentType))
        {
            try
            {
                using var document = JsonDocument.Parse(item.Value, JsonOptions);
                if (path.Length > 0 || document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    Flatten(document.RootElement, path, data);
                }

                return;
            }
            catch (JsonException ex)
            {
                Log.InvalidJson(logger, item.Key, item.ContentType, ex.Message);
            }
        }

        if (path.Length > 0)
        {
            data[path] = text;
        }
    }

    private static bool AddFlag(Dictionary<string, string?> data, int index, StoredItem item, ILogger logger)
    {
        var name = AzKvFeatureFlags.NameOf(item.Key);
        if (name is null)
        {
            Log.InvalidFlag(logger, item.Key, "the name after the prefix is not a valid flag name");
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(item.Value, JsonOptions);
        }
        catch (JsonException ex)
        {
            Log.InvalidFlag(logger, item.Key, "the value is not JSON: " + ex.Message);
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Log.InvalidFlag(logger, item.Key, "the value is not a JSON object");
                return false;
            }

            if (root.TryGetProperty("id", out var id) && (id.ValueKind != JsonValueKind.String || !string.Equals(id.GetString(), name, StringComparison.Ordinal)))
            {
                Log.InvalidFlag(logger, item.Key, $"its \"id\" is not \"{name}\", the name in the key");
                return false;
            }

            var path = FlagsSection + ":" + index.ToString(CultureInfo.InvariantCulture);
            Flatten(root, path, data);
            data[path + ":id"] = name;
            return true;
        }
    }

    /// <summary>Expands a JSON element as Microsoft.Extensions.Configuration.Json does.</summary>
    private static void Flatten(JsonElement element, string path, Dictionary<string, string?> data)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var anyProperty = false;
                foreach (var property in element.EnumerateObject())
                {
                    anyProperty = true;
                    Flatten(property.Value, Combine(path, property.Name), data);
                }

                if (!anyProperty && path.Length > 0)
                {
                    data[path] = null;
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var child in element.EnumerateArray())
                {
                    Flatten(child, Combine(path, index.ToString(CultureInfo.InvariantCulture)), data);
                    index++;
                }

                if (index == 0 && path.Length > 0)
                {
                    data[path] = null;
                }

                break;
            case JsonValueKind.Null:
                data[path] = null;
                break;
            default:
                // Strings as they are, numbers as written, true/false as "True"/"False" (JsonElement.ToString), like the JSON file provider.
                data[path] = element.ToString();
                break;
        }
    }

    private static string Combine(string path, string key) => path.Length == 0 ? key : ConfigurationPath.Combine(path, key);
}
