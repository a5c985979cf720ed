using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using AzKv.Cli.Benchmarking;
using AzKv.Cli.Platform;
using AzKv.Local;
using AzKv.Partitions;
using AzKv.Storage;
using AzKv.Storage.AzureBlob;
using AzKv.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv bench engine</c>: one partition owner on Azurite (the engine alone, no HTTP), driven by
/// N concurrent writers per run; prints writes/s, records per Append Block and commit latency
/// percentiles for each writer count. Starts its own in-memory Azurite unless given a connection string.
/// </summary>
internal static class BenchEngineCommand
{
    public static Command Create()
    {
        var connectionString = new Option<string?>("--connection-string")
        {
            Description = "Storage connection string; default: start a private in-memory Azurite.",
        };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds per run.", DefaultValueFactory = _ => 10 };
        var writers = new Option<string>("--writers")
        {
            Description = "Comma-separated concurrent writer counts, one run each.",
            DefaultValueFactory = _ => "1,16,64",
        };
        var valueBytes = new Option<int>("--value-bytes") { Description = "Bytes per value.", DefaultValueFactory = _ => 256 };
        var keys = new Option<int>("--keys") { Description = "Distinct keys written.", DefaultValueFactory = _ => 10_000 };

        var command = new Command("engine", "Measure one partition's group commit on Azurite: writes/s, records per append, commit latency.")
        {
            connectionString,
            seconds,
            writers,
            valueBytes,
            keys,
        };
        command.SetAction(async (parseResult, invocationToken) =>
        {
            // Ctrl-C / SIGTERM cancel the run (the CLI does not end the process on a signal).
            using var shutdown = new ShutdownSignal(invocationToken);
            var cancellationToken = shutdown.Token;
            var counts = new List<int>();
            foreach (var part in parseResult.GetValue(writers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 4096)
                {
                    await Console.Error.WriteLineAsync($"--writers: '{part}' is not a writer count from 1 to 4096.").ConfigureAwait(false);
                    return 2;
                }

                counts.Add(count);
            }

            var duration = TimeSpan.FromSeconds(Math.Clamp(parseResult.GetValue(seconds), 1, 3600));
            var size = Math.Clamp(parseResult.GetValue(valueBytes), 0, 1024 * 1024);
            var keyCount = Math.Max(1, parseResult.GetValue(keys));
            AzuriteProcess? azurite = null;
            var cs = parseResult.GetValue(connectionString);
            if (string.IsNullOrEmpty(cs))
            {
                azurite = await AzuriteProcess.StartAsync(new AzuriteOptions(), cancellationToken).ConfigureAwait(false);
                cs = azurite.GetConnectionString();
            }

            try
            {
                Console.WriteLine($"bench engine: one partition, {size}-byte values, {keyCount} keys, {duration.TotalSeconds:0} s per run, {Environment.ProcessorCount} cores");
                Console.WriteLine("writers   writes/s   records/append   appends/s   p50 ms   p99 ms   max ms");
                foreach (var count in counts)
                {
                    var result = await RunAsync(cs, count, duration, size, keyCount, cancellationToken).ConfigureAwait(false);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{count,7}   {result.WritesPerSecond,8:0}   {result.RecordsPerAppend,14:0.0}   {result.AppendsPerSecond,9:0}   {result.Latency.PercentileMilliseconds(0.50),6:0.00}   {result.Latency.PercentileMilliseconds(0.99),6:0.00}   {result.Latency.MaxMilliseconds,6:0.00}"));
                }

                return 0;
            }
            finally
            {
                if (azurite is not null)
                {
                    await azurite.DisposeAsync().ConfigureAwait(false);
                }
            }
        });
        return command;
    }

    private sealed record RunResult(double WritesPerSecond, double RecordsPerAppend, double AppendsPerSecond, LatencySummary Latency);

    private static async Task<RunResult> RunAsync(string connectionString, int writers, TimeSpan duration, int valueBytes, int keyCount, CancellationToken cancellationToken)
    {
        var store = AzureBlobStores.FromConnectionString(connectionString, "bench-" + Guid.NewGuid().ToString("N")[..12]);
        await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        var time = TimeProvider.System;
        var opened = await PartitionOwner.OpenAsync(
            0, store, new OwnerIdentity("bench", "local", null), new PartitionOptions(), TakeoverMode.Break, time,
            new HybridLogicalClock(time), NullLogger.Instance, cancellationToken).ConfigureAwait(false);
        await using var owner = opened.Owner ?? throw new InvalidOperationException("Could not open the partition.");

        long records = 0;
        long appends = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AzKv.Engine" && instrument.Name == "azkv.wal.records_per_append")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) =>
        {
            Interlocked.Add(ref records, value);
            Interlocked.Increment(ref appends);
        });
        listener.Start();

        var value = Encoding.ASCII.GetBytes(new string('v', valueBytes));
        var samples = Enumerable.Range(0, writers).Select(_ => new List<long>(4096)).ToArray();
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            var mine = samples[w];
            while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
            {
                var begin = Stopwatch.GetTimestamp();
                var outcome = await owner.WriteAsync(
                    new WriteCommand { Key = "bench/" + random.Next(keyCount).ToString("D6", CultureInfo.InvariantCulture), Value = value },
                    cancellationToken).ConfigureAwait(false);
                if (outcome.Status != WriteStatus.Committed)
                {
                    throw new InvalidOperationException($"A write failed: {outcome.Status}.");
                }

                mine.Add(Stopwatch.GetTimestamp() - begin);
            }
        }, cancellationToken))).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var total = samples.Sum(s => s.Count);
        await owner.HandOverAsync(cancellationToken).ConfigureAwait(false);
        return new RunResult(total / elapsed, appends == 0 ? 0 : (double)records / appends, appends / elapsed, new LatencySummary(samples));
    }
}
