using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace AzKv.Server.Metrics;

/// <summary>
/// Collects the instruments of AzKv's meters with a <see cref="MeterListener"/> and renders them in
/// the Prometheus text format: counters as <c>_total</c>, histograms with cumulative buckets,
/// <c>_sum</c> and <c>_count</c>. Names: dots become underscores, units are appended.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] Bounds = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), Series> _series = new();

    /// <summary>
    /// The series of a measurement found from its instrument and tag values without building the
    /// label text: every request records several measurements, and the text (lists, escaping,
    /// sorting, joining) cost more than the request itself. Filled from <see cref="_series"/>.
    /// </summary>
    private readonly ConcurrentDictionary<TagKey, Series> _byTags = new();

    public PrometheusExporter(IEnumerable<string> meterNames)
    {
        var names = meterNames.ToHashSet(StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (names.Contains(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public string Render()
    {
        var text = new StringBuilder();
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = MetricName(instrument);
            var histogram = instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
            var metricName = histogram ? name : name + "_total";
            text.Append("# HELP ").Append(metricName).Append(' ').Append(instrument.Description ?? string.Empty).Append('\n');
            text.Append("# TYPE ").Append(metricName).Append(histogram ? " histogram\n" : " counter\n");
            foreach (var ((_, labels), series) in group.OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
            {
                series.Render(text, metricName, labels, histogram);
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length > TagKey.MaxTags)
        {
            _series.GetOrAdd((instrument, Labels(tags)), static _ => new Series()).Add(value);
            return;
        }

        var key = new TagKey(instrument, tags);
        if (!_byTags.TryGetValue(key, out var series))
        {
            // Equal tag values give equal label text, so every key maps to the one series of its text.
            series = _series.GetOrAdd((instrument, Labels(tags)), static _ => new Series());
            _byTags.TryAdd(key, series);
        }

        series.Add(value);
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
        {
            var escaped = Convert.ToString(value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
            pairs.Add($"{Sanitize(key)}=\"{escaped}\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    private static string MetricName(Instrument instrument)
    {
        var name = Sanitize(instrument.Name);
        var unit = instrument.Unit switch
        {
            "ms" => "_milliseconds",
            "By" => "_bytes",
            "s" => "_seconds",
            _ => string.Empty,
        };
        return name.EndsWith(unit, StringComparison.Ordinal) ? name : name + unit;
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return builder.ToString();
    }

    /// <summary>
    /// An instrument and up to <see cref="MaxTags"/> tags, compared by tag name and value (in the
    /// order given), held inline so a lookup allocates nothing.
    /// </summary>
    private readonly struct TagKey : IEquatable<TagKey>
    {
        public const int MaxTags = 4;

        private readonly Instrument _instrument;
        private readonly int _count;
        private readonly KeyValuePair<string, object?> _tag0;
        private readonly KeyValuePair<string, object?> _tag1;
        private readonly KeyValuePair<string, object?> _tag2;
        private readonly KeyValuePair<string, object?> _tag3;

        public TagKey(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            _instrument = instrument;
            _count = tags.Length;
            _tag0 = tags.Length > 0 ? tags[0] : default;
            _tag1 = tags.Length > 1 ? tags[1] : default;
            _tag2 = tags.Length > 2 ? tags[2] : default;
            _tag3 = tags.Length > 3 ? tags[3] : default;
        }

        public bool Equals(TagKey other) =>
            ReferenceEquals(_instrument, other._instrument)
            && _count == other._count
            && Same(_tag0, other._tag0)
            && Same(_tag1, other._tag1)
            && Same(_tag2, other._tag2)
            && Same(_tag3, other._tag3);

        public override bool Equals(object? obj) => obj is TagKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(
            System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_instrument), _count, Hash(_tag0), Hash(_tag1), Hash(_tag2), Hash(_tag3));

        private static bool Same(KeyValuePair<string, object?> left, KeyValuePair<string, object?> right) =>
            string.Equals(left.Key, right.Key, StringComparison.Ordinal) && Equals(left.Value, right.Value);

        private static int Hash(KeyValuePair<string, object?> tag) =>
            HashCode.Combine(tag.Key is null ? 0 : StringComparer.Ordinal.GetHashCode(tag.Key), tag.Value?.GetHashCode() ?? 0);
    }

    /// <summary>One series: lock-free, so requests on every thread record without waiting on each other.</summary>
    private sealed class Series
    {
        private readonly long[] _buckets = new long[Bounds.Length + 1];
        private double _sum;

        public void Add(double value)
        {
            var index = Array.BinarySearch(Bounds, value);
            Interlocked.Increment(ref _buckets[index >= 0 ? index : ~index]);
            var sum = Volatile.Read(ref _sum);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _sum, sum + value, sum);
                if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(sum))
                {
                    return;
                }

                sum = seen;
            }
        }

        public void Render(StringBuilder text, string name, string labels, bool histogram)
        {
            var sum = Volatile.Read(ref _sum);
            if (!histogram)
            {
                text.Append(name).Append(Braces(labels)).Append(' ').Append(sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
                return;
            }

            // The count is the sum of the buckets read here, so +Inf and _count always agree.
            long cumulative = 0;
            for (var i = 0; i < Bounds.Length; i++)
            {
                cumulative += Volatile.Read(ref _buckets[i]);
                text.Append(name).Append("_bucket").Append(Braces(Join(labels, $"le=\"{Bounds[i].ToString(CultureInfo.InvariantCulture)}\""))).Append(' ').Append(cumulative).Append('\n');
            }

            cumulative += Volatile.Read(ref _buckets[^1]);
            text.Append(name).Append("_bucket").Append(Braces(Join(labels, "le=\"+Inf\""))).Append(' ').Append(cumulative).Append('\n');
            text.Append(name).Append("_sum").Append(Braces(labels)).Append(' ').Append(sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count").Append(Braces(labels)).Append(' ').Append(cumulative).Append('\n');
        }

        private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

        private static string Braces(string labels) => labels.Length == 0 ? string.Empty : "{" + labels + "}";
    }
}
