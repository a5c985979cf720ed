using System.Diagnostics;
using System.Globalization;

namespace AzKv.Cli.Benchmarking;

/// <summary>
/// Runs one workload against one target: opens the connections, pre-loads the keys when the
/// workload reads, warms up, measures, and for AzKv reads the group-commit figures from
/// <c>/metrics</c> at the start and the end of the measured window.
/// </summary>
internal static class HttpBenchRunner
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    /// <summary>Runs <paramref name="settings"/>; progress lines go to <paramref name="progress"/> (stderr) once a second.</summary>
    public static async Task<HttpBenchResult> RunAsync(HttpBenchSettings settings, TextWriter progress, CancellationToken cancellationToken)
    {
        var requests = new BenchRequests(settings);
        var connections = new LoadConnection[settings.Connections];
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = new LoadConnection(requests, settings.Url, seed: i + 1);
        }

        using var metrics = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        if (requests.BearerToken is { } token)
        {
            metrics.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        // Requests carry no cancellation token (see LoadConnection): Ctrl-C closes the connections instead.
        using var onCancel = cancellationToken.Register(() => AbortAll(connections));
        try
        {
            var label = $"{HttpBenchSettings.Name(settings.Target)} {HttpBenchSettings.Name(settings.Workload)}";
            if (settings.Preload && settings.Workload is BenchWorkload.Get or BenchWorkload.Mixed)
            {
                await PreloadAsync(settings, connections, label, progress, cancellationToken).ConfigureAwait(false);
            }

            var clock = new RunClock(Stopwatch.GetTimestamp(), settings.Warmup, settings.Duration);
            var runs = new Task[connections.Length];
            for (var i = 0; i < connections.Length; i++)
            {
                var connection = connections[i];
                runs[i] = Task.Run(() => connection.RunAsync(settings.Workload, settings.Keys, clock, cancellationToken), cancellationToken);
            }

            var all = Task.WhenAll(runs);
            using var watchdog = new CancellationTokenSource();
            var watching = WatchAsync(all, connections, clock, watchdog.Token);
            var scrape = settings.Target == BenchTarget.AzKv
                ? ScrapeWindowAsync(metrics, settings.Url, clock, cancellationToken)
                : Task.FromResult<(double Records, double Appends)?>(null);
            await ReportProgressAsync(all, connections, clock, label, progress, cancellationToken).ConfigureAwait(false);
            await all.ConfigureAwait(false);
            await watchdog.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            var window = await scrape.ConfigureAwait(false);
            return Summarize(settings, connections, clock, window);
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>A server that stops answering must not hold the run: connections still busy this long after the end are closed.</summary>
    private static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(30);

    private static void AbortAll(LoadConnection[] connections)
    {
        foreach (var connection in connections)
        {
            connection.Abort();
        }
    }

    /// <summary>Closes the connections if the run is still going <see cref="StuckAfter"/> after its end.</summary>
    private static async Task WatchAsync(Task all, LoadConnection[] connections, RunClock clock, CancellationToken cancellationToken)
    {
        try
        {
            var due = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), clock.MeasureEnd) + StuckAfter;
            await Task.Delay(due, cancellationToken).ConfigureAwait(false);
            if (!all.IsCompleted)
            {
                AbortAll(connections);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended in time.
        }
    }

    private static async Task PreloadAsync(HttpBenchSettings settings, LoadConnection[] connections, string label, TextWriter progress, CancellationToken cancellationToken)
    {
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{label}] pre-loading {settings.Keys} keys over {connections.Length} connections")).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task[connections.Length];
        for (var i = 0; i < connections.Length; i++)
        {
            var connection = connections[i];
            var first = i;
            tasks[i] = Task.Run(() => connection.PreloadAsync(first, connections.Length, settings.Keys, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        long failed = 0;
        var reasons = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var connection in connections)
        {
            failed += connection.Failed;
            reasons.UnionWith(connection.Errors.Keys);
            connection.ResetCounters();
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"[{label}] pre-loaded in {seconds:0.0} s{(failed > 0 ? $", {failed} puts failed ({string.Join(", ", reasons)})" : string.Empty)}")).ConfigureAwait(false);
    }

    private static async Task ReportProgressAsync(Task all, LoadConnection[] connections, RunClock clock, string label, TextWriter progress, CancellationToken cancellationToken)
    {
        long lastCompleted = 0;
        var lastAt = Stopwatch.GetTimestamp();
        while (!all.IsCompleted)
        {
            try
            {
                await Task.WhenAny(all, Task.Delay(ProgressInterval, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (all.IsCompleted)
            {
                return;
            }

            long completed = 0;
            long failed = 0;
            foreach (var connection in connections)
            {
                completed += connection.Completed;
                failed += connection.Failed;
            }

            var now = Stopwatch.GetTimestamp();
            var rate = (completed - lastCompleted) / Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
            lastCompleted = completed;
            lastAt = now;
            var phase = clock.PhaseAt(now);
            var elapsed = phase == RunPhase.Warmup
                ? -(clock.MeasureStart - now) / (double)Stopwatch.Frequency
                : (now - clock.MeasureStart) / (double)Stopwatch.Frequency;
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"[{label}] {(phase == RunPhase.Warmup ? "warm-up" : "measure")} {elapsed,6:0.0}s/{clock.Duration.TotalSeconds:0}s  {rate,9:N0} ops/s  errors {failed}")).ConfigureAwait(false);
        }
    }

    /// <summary>Records and appends committed between the start and the end of the measured window.</summary>
    private static async Task<(double Records, double Appends)?> ScrapeWindowAsync(HttpClient http, Uri url, RunClock clock, CancellationToken cancellationToken)
    {
        await DelayUntilAsync(clock.MeasureStart, cancellationToken).ConfigureAwait(false);
        var before = await ScrapeAsync(http, url, cancellationToken).ConfigureAwait(false);
        await DelayUntilAsync(clock.MeasureEnd, cancellationToken).ConfigureAwait(false);
        var after = await ScrapeAsync(http, url, cancellationToken).ConfigureAwait(false);
        if (before is null || after is null)
        {
            return null;
        }

        return (after.Value.Records - before.Value.Records, after.Value.Appends - before.Value.Appends);
    }

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(double Records, double Appends)?> ScrapeAsync(HttpClient http, Uri url, CancellationToken cancellationToken)
    {
        try
        {
            var text = await http.GetStringAsync(new Uri(url, "/metrics"), cancellationToken).ConfigureAwait(false);
            var hasSum = PrometheusText.TryGetSum(text, PrometheusText.RecordsPerAppendSum, out var records);
            var hasCount = PrometheusText.TryGetSum(text, PrometheusText.RecordsPerAppendCount, out var appends);

            // No append yet since the node started: the histogram is not exposed, which means zero.
            return hasSum == hasCount ? (records, appends) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static HttpBenchResult Summarize(HttpBenchSettings settings, LoadConnection[] connections, RunClock clock, (double Records, double Appends)? window)
    {
        var histogram = new LatencyHistogram();
        long gets = 0;
        long puts = 0;
        var opened = 0;
        var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var stopped = new List<string>();
        foreach (var connection in connections)
        {
            histogram.Add(connection.Histogram);
            gets += connection.Gets;
            puts += connection.Puts;
            opened += connection.ConnectionsOpened;
            foreach (var (reason, count) in connection.Errors)
            {
                errors[reason] = errors.GetValueOrDefault(reason) + count;
            }

            if (connection.StoppedBecause is { } why)
            {
                stopped.Add(why);
            }
        }

        var seconds = clock.Duration.TotalSeconds;
        var operations = histogram.TotalCount;
        return new HttpBenchResult
        {
            Target = HttpBenchSettings.Name(settings.Target),
            Url = settings.Url.GetLeftPart(UriPartial.Authority),
            Workload = HttpBenchSettings.Name(settings.Workload),
            Connections = settings.Connections,
            ValueBytes = settings.ValueBytes,
            Keys = settings.Keys,
            Seconds = seconds,
            WarmupSeconds = settings.Warmup.TotalSeconds,
            Cores = Environment.ProcessorCount,
            Operations = operations,
            Gets = gets,
            Puts = puts,
            Errors = errors.Values.Sum(),
            ErrorsByReason = errors,
            OpsPerSec = Math.Round(operations / seconds, 1),
            P50Ms = Milliseconds(histogram.ValueAtPercentile(50)),
            P90Ms = Milliseconds(histogram.ValueAtPercentile(90)),
            P99Ms = Milliseconds(histogram.ValueAtPercentile(99)),
            P999Ms = Milliseconds(histogram.ValueAtPercentile(99.9)),
            MaxMs = Milliseconds(histogram.TotalCount == 0 ? 0 : histogram.Max),
            MeanMs = Math.Round(histogram.Mean / 1000, 3),
            RecordsPerAppend = window is { Appends: > 0 } w ? Math.Round(w.Records / w.Appends, 2) : null,
            Appends = window is { } a ? (long)a.Appends : null,
            ConnectionsOpened = opened,
            Stopped = stopped.Count > 0 ? stopped : null,
        };
    }

    private static double Milliseconds(long microseconds) => microseconds / 1000.0;
}
