using System.Globalization;
using System.Text.RegularExpressions;

namespace AzKv.Local.EventHubs;

/// <summary>
/// Where a receiver starts, parsed from the selector filter the Event Hubs SDK puts on the link's
/// source (<c>amqp.annotation.x-opt-sequence-number &gt;= 5</c>, <c>amqp.annotation.x-opt-offset &gt; '-1'</c>,
/// <c>amqp.annotation.x-opt-enqueued-time &gt; 1733443200000</c>); no filter reads from the start.
/// </summary>
internal abstract partial record SelectorFilter
{
    /// <summary>Start at the first retained event whose sequence number passes the comparison.</summary>
    public sealed record FromSequenceNumber(long Value, bool Inclusive) : SelectorFilter;

    /// <summary>Start after (or at) an offset; <c>-1</c> is the start of the partition.</summary>
    public sealed record FromOffset(long Value, bool Inclusive) : SelectorFilter;

    /// <summary>Start at the first event enqueued after a time (Unix milliseconds).</summary>
    public sealed record FromEnqueuedTime(long UnixMilliseconds) : SelectorFilter;

    /// <summary>Only events enqueued after the receiver attached (<c>@latest</c>).</summary>
    public sealed record Latest : SelectorFilter;

    /// <summary>Parses a filter expression; throws <see cref="FormatException"/> for anything else.</summary>
    public static SelectorFilter Parse(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return new FromOffset(-1, Inclusive: false);
        }

        var match = ExpressionPattern().Match(expression);
        if (!match.Success)
        {
            throw new FormatException($"Unsupported filter expression '{expression}'.");
        }

        var name = match.Groups["name"].Value;
        var inclusive = match.Groups["op"].Value == ">=";
        var value = match.Groups["value"].Value.Trim('\'');
        switch (name)
        {
            case "x-opt-offset" when value == "@latest":
                return new Latest();
            case "x-opt-offset":
                return new FromOffset(ParseLong(value, expression), inclusive);
            case "x-opt-sequence-number":
                return new FromSequenceNumber(ParseLong(value, expression), inclusive);
            case "x-opt-enqueued-time":
                return new FromEnqueuedTime(ParseLong(value, expression));
            default:
                throw new FormatException($"Unsupported filter expression '{expression}'.");
        }
    }

    private static long ParseLong(string value, string expression) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var result)
            ? result
            : throw new FormatException($"Invalid value in filter expression '{expression}'.");

    [GeneratedRegex(@"^\s*amqp\.annotation\.(?<name>x-opt-[a-z-]+)\s*(?<op>>=|>)\s*(?<value>'[^']*'|[^\s]+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ExpressionPattern();
}
