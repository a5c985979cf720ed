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
        var labels = Labels(tags);
        var series = _series.GetOrAdd((instrument, labels), static _ => new Series());
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

    private sealed class Series
    {
        private readonly long[] _buckets = new long[Bounds.Length + 1];
        private readonly object _gate = new();
        private double _sum;
        private long _count;

        public void Add(double value)
        {
            lock (_gate)
            {
                _sum += value;
                _count++;
                var index = Array.BinarySearch(Bounds, value);
                _buckets[index >= 0 ? index : ~index]++;
            }
        }

        public void Render(StringBuilder text, string name, string labels, bool histogram)
        {
            lock (_gate)
            {
                if (!histogram)
                {
                    text.Append(name).Append(Braces(labels)).Append(' ').Append(_sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    return;
                }

                long cumulative = 0;
                for (var i = 0; i < Bounds.Length; i++)
                {
                    cumulative += _buckets[i];
                    text.Append(name).Append("_bucket").Append(Braces(Join(labels, $"le=\"{Bounds[i].ToString(CultureInfo.InvariantCulture)}\""))).Append(' ').Append(cumulative).Append('\n');
                }

                cumulative += _buckets[^1];
                text.Append(name).Append("_bucket").Append(Braces(Join(labels, "le=\"+Inf\""))).Append(' ').Append(cumulative).Append('\n');
                text.Append(name).Append("_sum").Append(Braces(labels)).Append(' ').Append(_sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
                text.Append(name).Append("_count").Append(Braces(labels)).Append(' ').Append(_count).Append('\n');
            }
        }

        private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

        private static string Braces(string labels) => labels.Length == 0 ? string.Empty : "{" + labels + "}";
    }
}
