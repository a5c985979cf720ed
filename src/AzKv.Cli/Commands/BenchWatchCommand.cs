using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using AzKv.Cli.Benchmarking;
using AzKv.Cli.Client;
using AzKv.Cli.Output;
using AzKv.Cli.Platform;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv bench watch</c>: W watch streams (one TCP connection each) on a prefix, a writer at a
/// fixed rate, and for every write the time until each watcher received it; AzKv over SSE, etcd
/// over its v3 JSON gateway's watch stream. Benchmarks print numbers; they are not tests.
/// </summary>
internal static class BenchWatchCommand
{
    private const string DefaultEtcdUrl = "http://127.0.0.1:2379";

    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "The server: azkv (SSE on /v1/watch) or etcd (v3 JSON gateway, POST /v3/watch).", DefaultValueFactory = _ => "azkv" };
        target.AcceptOnlyFromAmong("azkv", "etcd");
        var watchers = new Option<int>("--watchers") { Description = "Watch streams, each its own TCP connection.", DefaultValueFactory = _ => 10_000 };
        var rate = new Option<double>("--rate") { Description = "Writes per second.", DefaultValueFactory = _ => 20 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds of writes.", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup-seconds") { Description = "Seconds of writes before the measured ones (delivered, not recorded).", DefaultValueFactory = _ => 2 };
        var settle = new Option<int>("--settle-seconds") { Description = "After the last write, wait at most this long for every watcher to receive it.", DefaultValueFactory = _ => 15 };
        var prefix = new Option<string>("--prefix") { Description = "The watched prefix (each run writes under a fresh sub-prefix of it).", DefaultValueFactory = _ => "bench/watch/" };
        var valueBytes = new Option<int>("--value-bytes") { Description = "Bytes per value (the send time, padded).", DefaultValueFactory = _ => 64 };
        var sources = new Option<int>("--source-addresses") { Description = "Spread connections over this many loopback source addresses 127.0.0.1.. (when ephemeral ports run short); 1 lets the kernel pick.", DefaultValueFactory = _ => 1 };
        var serverPid = new Option<int?>("--server-pid") { Description = "The server's process id: report its RSS and CPU." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file." };
        watchers.Validators.Add(r => RequireRange(r, 1, 100_000));
        seconds.Validators.Add(r => RequireRange(r, 1, 3600));
        warmup.Validators.Add(r => RequireRange(r, 0, 600));
        settle.Validators.Add(r => RequireRange(r, 1, 600));
        valueBytes.Validators.Add(r => RequireRange(r, 0, 1024 * 1024));
        sources.Validators.Add(r => RequireRange(r, 1, 254));
        rate.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<double>();
            if (!(value > 0 && value <= 10_000))
            {
                r.AddError("--rate must be above 0 and at most 10000.");
            }
        });

        var command = new Command("watch", $"Watch fan-out: W watch streams on a prefix, writes at a fixed rate, delivered fraction and delivery latency (p50/p99/max), server RSS and CPU. The server is the global --url (for --target etcd its client URL, default {DefaultEtcdUrl}).")
        {
            target, watchers, rate, seconds, warmup, settle, prefix, valueBytes, sources, serverPid, json,
        };

        command.SetAction(async (parseResult, invocationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var kind = parseResult.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.AzKv;
            var given = parseResult.GetResult(ClientOptions.Url) is { Implicit: false };
            var urlText = given ? parseResult.GetValue(ClientOptions.Url)! : kind == BenchTarget.Etcd ? DefaultEtcdUrl : ClientOptions.DefaultUrlFromEnvironment();
            if (!Uri.TryCreate(urlText.Split(',')[0].Trim(), UriKind.Absolute, out var baseUrl) || baseUrl.Scheme != "http")
            {
                await error.WriteLineAsync($"--url: '{urlText}' is not an absolute http URL (the watch generator speaks plain HTTP/1.1).").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var watchPrefix = parseResult.GetValue(prefix)!;
            if (watchPrefix.Length == 0)
            {
                await error.WriteLineAsync("--prefix must not be empty.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var settings = new WatchBenchSettings(
                kind,
                baseUrl,
                parseResult.GetValue(watchers),
                parseResult.GetValue(rate),
                TimeSpan.FromSeconds(parseResult.GetValue(seconds)),
                TimeSpan.FromSeconds(parseResult.GetValue(warmup)),
                TimeSpan.FromSeconds(parseResult.GetValue(settle)),
                watchPrefix,
                parseResult.GetValue(valueBytes),
                parseResult.GetValue(sources),
                parseResult.GetValue(serverPid));

            using var shutdown = new ShutdownSignal(invocationToken);
            WatchBenchResult result;
            try
            {
                result = await WatchBenchRunner.RunAsync(settings, error, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (shutdown.IsRequested)
            {
                return ExitCodes.Interrupted;
            }

            await WriteTableAsync(result, output).ConfigureAwait(false);
            if (parseResult.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, WatchBenchReport.Serialize(new WatchBenchReport(Environment.ProcessorCount, [result])) + "\n", shutdown.Token).ConfigureAwait(false);
            }

            // A run where a stream could not be opened or a write was not delivered everywhere did not pass.
            return result.Watchers == result.WatchersRequested && result.Writes > 0 && result.Received == result.Expected ? ExitCodes.Ok : ExitCodes.Error;
        });
        return command;
    }

    private static void RequireRange(OptionResult result, int min, int max)
    {
        var value = result.GetValueOrDefault<int>();
        if (value < min || value > max)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{result.Option.Name} must be from {min} to {max}."));
        }
    }

    private static async Task WriteTableAsync(WatchBenchResult r, TextWriter output)
    {
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"bench watch: {r.Target} at {r.Url}, {r.Watchers} of {r.WatchersRequested} watchers open ({r.ConnectSeconds:0.0} s), {r.Rate:0.##} writes/s for {r.Seconds:0} s after {r.WarmupSeconds:0} s warm-up, {r.Cores} cores shared by generator and servers")).ConfigureAwait(false);
        var table = new Table("writes", "delivered", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "reconnects", "failed watchers", "RSS idle MiB", "RSS max MiB", "server CPU %", "generator CPU %");
        table.Add(
            string.Create(CultureInfo.InvariantCulture, $"{r.Writes} ({r.WriteErrors} errors)"),
            string.Create(CultureInfo.InvariantCulture, $"{r.Delivered:0.000000} ({r.Received}/{r.Expected})"),
            r.P50Ms.ToString("0.000", CultureInfo.InvariantCulture),
            r.P99Ms.ToString("0.000", CultureInfo.InvariantCulture),
            r.P999Ms.ToString("0.000", CultureInfo.InvariantCulture),
            r.MaxMs.ToString("0.000", CultureInfo.InvariantCulture),
            r.Reconnects.ToString(CultureInfo.InvariantCulture),
            r.WatcherFailures.ToString(CultureInfo.InvariantCulture),
            r.RssIdleMiB?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-",
            r.RssMiB?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-",
            r.CpuPercent?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-",
            r.GeneratorCpuPercent.ToString("0.0", CultureInfo.InvariantCulture));
        await table.WriteAsync(output).ConfigureAwait(false);
        foreach (var (why, count) in r.Failures ?? new Dictionary<string, int>())
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {count} watchers failed: {why}")).ConfigureAwait(false);
        }
    }
}
