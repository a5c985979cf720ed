using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using AzKv.Cli.Benchmarking;
using AzKv.Cli.Platform;
using AzKv.Storage;
using AzKv.Storage.AzureBlob;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv bench append</c>: N writers, each with its own leased append blob, append fixed-size
/// blocks with lease id + append position for a fixed time; prints appends/s, MB/s and latency
/// percentiles over every sample.
/// </summary>
internal static class BenchAppendCommand
{
    public static Command Create()
    {
        var connectionString = new Option<string>("--connection-string")
        {
            Description = "Storage connection string (for Azurite: UseDevelopmentStorage=true, or an explicit BlobEndpoint).",
            Required = true,
        };
        var container = new Option<string>("--container")
        {
            Description = "Container to write the benchmark blobs into (created if missing; the blobs are deleted afterwards).",
            DefaultValueFactory = _ => "azkv-bench",
        };
        var seconds = new Option<int>("--seconds")
        {
            Description = "How long to append, in seconds.",
            DefaultValueFactory = _ => 10,
        };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Concurrent writers, one append blob and one lease each.",
            DefaultValueFactory = _ => 1,
        };
        var blockBytes = new Option<int>("--block-bytes")
        {
            Description = $"Bytes per Append Block (1 to {BlobLimits.MaxAppendBlockBytes}).",
            DefaultValueFactory = _ => 1024,
        };

        seconds.Validators.Add(result => RequireRange(result, 1, 3600));
        concurrency.Validators.Add(result => RequireRange(result, 1, 1024));
        blockBytes.Validators.Add(result => RequireRange(result, 1, BlobLimits.MaxAppendBlockBytes));

        var command = new Command("append", "Measure Append Block throughput and latency with leased, position-checked appends.")
        {
            connectionString,
            container,
            seconds,
            concurrency,
            blockBytes,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new Settings(
                parseResult.GetValue(connectionString)!,
                parseResult.GetValue(container)!,
                parseResult.GetValue(seconds),
                parseResult.GetValue(concurrency),
                parseResult.GetValue(blockBytes));

            // Ctrl-C stops the run but still cleans up (leases released, blobs deleted).
            using var shutdown = new ShutdownSignal(cancellationToken);
            try
            {
                return await RunAsync(settings, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (shutdown.IsRequested)
            {
                return ExitCodes.Interrupted;
            }
        });

        return command;
    }

    private static void RequireRange(OptionResult result, int min, int max)
    {
        int value = result.GetValueOrDefault<int>();
        if (value < min || value > max)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{result.Option.Name} must be from {min} to {max}."));
        }
    }

    private static async Task<int> RunAsync(Settings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        IBlobStore store;
        try
        {
            store = AzureBlobStores.FromConnectionString(settings.ConnectionString, settings.Container);
        }
        catch (ArgumentException ex)
        {
            // The message names the bad part and never contains the key.
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }

        byte[] block = new byte[settings.BlockBytes];
        Random.Shared.NextBytes(block);
        string runId = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        var writers = new AppendWriter[settings.Concurrency];
        for (int i = 0; i < writers.Length; i++)
        {
            writers[i] = new AppendWriter(store, string.Create(CultureInfo.InvariantCulture, $"bench/append/{runId}/writer-{i:D4}"), block);
        }

        try
        {
            await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(Array.ConvertAll(writers, w => w.StartAsync(cancellationToken))).ConfigureAwait(false);

            long started = Stopwatch.GetTimestamp();
            long deadline = started + (settings.Seconds * Stopwatch.Frequency);
            await Task.WhenAll(Array.ConvertAll(writers, w => w.RunAsync(deadline, cancellationToken))).ConfigureAwait(false);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);

            await ReportAsync(settings, writers, elapsed, output).ConfigureAwait(false);
        }
        catch (BlobStorageException ex)
        {
            await error.WriteLineAsync($"bench append failed: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Task.WhenAll(Array.ConvertAll(writers, w => w.CleanUpAsync(cleanup.Token))).ConfigureAwait(false);
        }

        foreach (AppendWriter writer in writers)
        {
            if (writer.StoppedBecause is not null)
            {
                return 1;
            }
        }

        return 0;
    }

    private static async Task ReportAsync(Settings settings, AppendWriter[] writers, TimeSpan elapsed, TextWriter output)
    {
        var samples = new List<long>[writers.Length];
        var errors = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < writers.Length; i++)
        {
            samples[i] = writers[i].Samples;
            foreach (KeyValuePair<string, int> pair in writers[i].Errors)
            {
                errors[pair.Key] = errors.GetValueOrDefault(pair.Key) + pair.Value;
            }
        }

        var latency = new LatencySummary(samples);
        double seconds = elapsed.TotalSeconds;
        double appendsPerSecond = latency.Count / seconds;
        double megabytesPerSecond = latency.Count * (double)settings.BlockBytes / 1_000_000 / seconds;

        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"bench append: container {settings.Container}, {settings.Concurrency} writer(s), {settings.BlockBytes}-byte blocks, {seconds:F2} s measured");
        text.AppendLine(CultureInfo.InvariantCulture, $"  appends      {latency.Count} ok, {Sum(errors)} failed{FormatErrors(errors)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  appends/s    {appendsPerSecond:F1}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  MB/s         {megabytesPerSecond:F3}  (1 MB = 10^6 bytes of block payload)");
        text.AppendLine(CultureInfo.InvariantCulture, $"  latency ms   p50 {latency.PercentileMilliseconds(0.50):F3}  p90 {latency.PercentileMilliseconds(0.90):F3}  p99 {latency.PercentileMilliseconds(0.99):F3}  max {latency.MaxMilliseconds:F3}");
        foreach (AppendWriter writer in writers)
        {
            if (writer.StoppedBecause is not null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  writer stopped early: {writer.StoppedBecause}");
            }
        }

        await output.WriteAsync(text.ToString()).ConfigureAwait(false);
    }

    private static int Sum(SortedDictionary<string, int> errors)
    {
        int total = 0;
        foreach (int count in errors.Values)
        {
            total += count;
        }

        return total;
    }

    private static string FormatErrors(SortedDictionary<string, int> errors)
    {
        if (errors.Count == 0)
        {
            return string.Empty;
        }

        var parts = new List<string>(errors.Count);
        foreach (KeyValuePair<string, int> pair in errors)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{pair.Key} x{pair.Value}"));
        }

        return " (" + string.Join(", ", parts) + ")";
    }

    private sealed record Settings(string ConnectionString, string Container, int Seconds, int Concurrency, int BlockBytes)
    {
        /// <summary>Never prints the connection string (it holds the account key).</summary>
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"container {Container}, {Seconds} s, {Concurrency} writer(s), {BlockBytes}-byte blocks");
    }
}
