using System.Globalization;

namespace AzKv.Cli.Benchmarking;

/// <summary>Reads samples from a Prometheus text exposition (what AzKv's <c>/metrics</c> serves).</summary>
internal static class PrometheusText
{
    /// <summary>Group-commit batch size: records and appends so far.</summary>
    public const string RecordsPerAppendSum = "azkv_wal_records_per_append_sum";

    /// <summary>Append Block calls that committed a batch.</summary>
    public const string RecordsPerAppendCount = "azkv_wal_records_per_append_count";

    /// <summary>
    /// The sum of every sample of metric <paramref name="name"/> (all label sets); false when
    /// the exposition has none.
    /// </summary>
    public static bool TryGetSum(string text, string name, out double sum)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(name);
        sum = 0;
        var found = false;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#' || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[name.Length..];
            if (rest.IsEmpty || (rest[0] != ' ' && rest[0] != '{'))
            {
                continue; // a longer name with this prefix
            }

            if (rest[0] == '{')
            {
                var close = rest.LastIndexOf('}');
                if (close < 0)
                {
                    continue;
                }

                rest = rest[(close + 1)..];
            }

            rest = rest.Trim();
            var space = rest.IndexOf(' ');
            var number = space < 0 ? rest : rest[..space]; // an optional timestamp follows
            if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum += value;
                found = true;
            }
        }

        return found;
    }
}
