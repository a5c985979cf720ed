using AzKv.Keys;
using Microsoft.AspNetCore.Http;

namespace AzKv.Server.Api;

/// <summary>
/// The <c>label</c> query parameter (docs/api.md, "Labels"). On get/put/delete it names one label: absent, empty or
/// <c>%00</c> is the null label. On list and watch it is a filter: absent or <c>*</c> is any label, else a comma list
/// whose elements are labels or the null label (<c>%00</c>, or an empty element).
/// </summary>
internal static class LabelQuery
{
    /// <summary>The query parameter's name.</summary>
    public const string Name = "label";

    /// <summary>The spelling of the null label in a query (URL-encoded as <c>%00</c>).</summary>
    public const string NullLabel = "\0";

    /// <summary>The label of a get/put/delete: null for the null label; false (with a problem) when invalid.</summary>
    public static bool TryGetLabel(HttpContext context, out string? label, out IResult? problem)
    {
        label = null;
        problem = null;

        // No query string (the usual request): no query collection to build.
        if (!context.Request.QueryString.HasValue || !context.Request.Query.TryGetValue(Name, out var values))
        {
            return true;
        }

        if (values.Count != 1)
        {
            problem = Problems.InvalidLabel("Send one label parameter.");
            return false;
        }

        var value = values[0];
        if (string.IsNullOrEmpty(value) || value == NullLabel)
        {
            return true;
        }

        if (Labels.Validate(value) is { } error)
        {
            problem = Problems.InvalidLabel(error);
            return false;
        }

        label = value;
        return true;
    }

    /// <summary>The label filter of a list or watch; false (with a problem) when invalid.</summary>
    public static bool TryGetFilter(string? value, out LabelFilter filter, out IResult? problem)
    {
        problem = null;
        filter = LabelFilter.Any;
        if (value is null || value == "*")
        {
            return true;
        }

        var includeNull = false;
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in value.Split(','))
        {
            if (part.Length == 0 || part == NullLabel)
            {
                includeNull = true;
                continue;
            }

            if (Labels.Validate(part) is { } error)
            {
                problem = Problems.InvalidLabel(part == "*" ? "'*' (any label) cannot be combined with other labels." : error);
                return false;
            }

            labels.Add(part);
        }

        filter = new LabelFilter(labels, includeNull);
        return true;
    }
}

/// <summary>Which labels a list or watch returns: any, or a set of labels and/or the null label.</summary>
internal sealed class LabelFilter
{
    private readonly HashSet<string>? _labels;
    private readonly bool _includeNull;

    internal LabelFilter(HashSet<string>? labels, bool includeNull)
    {
        _labels = labels;
        _includeNull = includeNull;
    }

    /// <summary>Every label, the null label included.</summary>
    public static LabelFilter Any { get; } = new(null, true);

    /// <summary>True for <see cref="Any"/>.</summary>
    public bool IsAny => _labels is null;

    /// <summary>True when an entry with <paramref name="label"/> (null: the null label) passes.</summary>
    public bool Matches(string? label) => _labels is null || (label is null ? _includeNull : _labels.Contains(label));

    /// <summary>True when the entry key's label passes.</summary>
    public bool MatchesEntry(string entryKey) => _labels is null || Matches(Labels.LabelOf(entryKey));
}
