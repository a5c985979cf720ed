using System.Collections.Immutable;
using System.Text;

namespace AzKv.Versioning;

/// <summary>
/// The conflict policy of every key: rules of key prefix → policy, the longest matching prefix wins, keys no rule
/// matches are <see cref="ConflictPolicy.Lww"/>. Immutable. Written as <c>prefix=policy;prefix=policy</c>, e.g.
/// <c>flags/=siblings;config/=lww</c> (docs/merge-rules.md).
/// </summary>
public sealed class ConflictPolicies : IEquatable<ConflictPolicies>
{
    private readonly ImmutableArray<KeyValuePair<string, ConflictPolicy>> _byLength;

    private ConflictPolicies(ImmutableArray<KeyValuePair<string, ConflictPolicy>> rules)
    {
        Rules = rules;
        _byLength = [.. rules.OrderByDescending(r => r.Key.Length).ThenBy(r => r.Key, StringComparer.Ordinal)];
    }

    /// <summary>No rules: every key is last-writer-wins.</summary>
    public static ConflictPolicies Default { get; } = new([]);

    /// <summary>The rules, ordered by prefix (ordinal).</summary>
    public ImmutableArray<KeyValuePair<string, ConflictPolicy>> Rules { get; }

    /// <summary>Creates the policies from rules; a prefix may appear once.</summary>
    /// <exception cref="ArgumentException">A prefix appears twice.</exception>
    public static ConflictPolicies Create(IEnumerable<KeyValuePair<string, ConflictPolicy>> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var sorted = rules.OrderBy(r => r.Key, StringComparer.Ordinal).ToImmutableArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            if (string.Equals(sorted[i].Key, sorted[i - 1].Key, StringComparison.Ordinal))
            {
                throw new ArgumentException($"The prefix '{sorted[i].Key}' has two conflict policies.", nameof(rules));
            }
        }

        return sorted.IsEmpty ? Default : new ConflictPolicies(sorted);
    }

    /// <summary>The policy of <paramref name="key"/>: that of the longest matching prefix, else LWW.</summary>
    public ConflictPolicy For(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var rule in _byLength)
        {
            if (key.StartsWith(rule.Key, StringComparison.Ordinal))
            {
                return rule.Value;
            }
        }

        return ConflictPolicy.Lww;
    }

    /// <summary>Parses <c>prefix=policy;…</c> (policy <c>lww</c> or <c>siblings</c>; an empty prefix is every key).</summary>
    public static bool TryParse(string? text, out ConflictPolicies policies, out string? error)
    {
        policies = Default;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var rules = new List<KeyValuePair<string, ConflictPolicy>>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.LastIndexOf('=');
            if (equals < 0)
            {
                error = $"'{part}' is not prefix=policy.";
                return false;
            }

            var prefix = part[..equals];
            var name = part[(equals + 1)..].Trim();
            if (!TryParsePolicy(name, out var policy))
            {
                error = $"'{name}' is not a conflict policy (use 'lww' or 'siblings').";
                return false;
            }

            if (rules.Exists(r => string.Equals(r.Key, prefix, StringComparison.Ordinal)))
            {
                error = $"The prefix '{prefix}' has two conflict policies.";
                return false;
            }

            rules.Add(new(prefix, policy));
        }

        policies = Create(rules);
        return true;
    }

    /// <summary>Parses a policy name: <c>lww</c> or <c>siblings</c> (case-insensitive).</summary>
    public static bool TryParsePolicy(string? name, out ConflictPolicy policy)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "lww":
                policy = ConflictPolicy.Lww;
                return true;
            case "siblings":
                policy = ConflictPolicy.Siblings;
                return true;
            default:
                policy = ConflictPolicy.Lww;
                return false;
        }
    }

    /// <summary>The policy's name as written in settings and documents.</summary>
    public static string Name(ConflictPolicy policy) => policy == ConflictPolicy.Siblings ? "siblings" : "lww";

    /// <inheritdoc/>
    public bool Equals(ConflictPolicies? other) =>
        other is not null && Rules.SequenceEqual(other.Rules);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ConflictPolicies);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var rule in Rules)
        {
            hash.Add(rule.Key, StringComparer.Ordinal);
            hash.Add(rule.Value);
        }

        return hash.ToHashCode();
    }

    /// <summary>The rules as <c>prefix=policy;…</c> (parses back to an equal value).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var rule in Rules)
        {
            if (text.Length > 0)
            {
                text.Append(';');
            }

            text.Append(rule.Key).Append('=').Append(Name(rule.Value));
        }

        return text.ToString();
    }
}
