using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using AzKv.Cli.Benchmarking;
using AzKv.Cli.Client;
using AzKv.Cli.Output;
using AzKv.Cli.Platform;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv bench http</c>: a load generator over HTTP/1.1 keep-alive connections, one request in
/// flight per connection, against AzKv's REST API or etcd's v3 JSON gateway with the same keys,
/// values and connections. Prints a progress line a second (stderr), a table at the end and,
/// with <c>--json</c>, the same figures for machines. Benchmarks print numbers; they are not tests.
/// </summary>
internal static class BenchHttpCommand
{
    private const string DefaultEtcdUrl = "http://127.0.0.1:2379";

    public static Command Create()
    {
        var target = new Option<string>("--target")
        {
            Description = "The server: azkv (REST API) or etcd (v3 JSON gateway).",
            DefaultValueFactory = _ => "azkv",
        };
        target.AcceptOnlyFromAmong("azkv", "etcd");
        var workload = new Option<string>("--workload")
        {
            Description = "Comma-separated workloads, run in order: put, get (keys pre-loaded first), mixed (90% get, 10% put), ceiling (GET /healthz of AzKv: the HTTP ceiling of this machine).",
            DefaultValueFactory = _ => "put",
        };
        var connections = new Option<int>("--connections") { Description = "Keep-alive connections, one request in flight on each.", DefaultValueFactory = _ => 64 };
        var valueBytes = new Option<int>("--value-bytes") { Description = "Bytes per value.", DefaultValueFactory = _ => 256 };
        var keys = new Option<int>("--keys") { Description = "Distinct keys, picked uniformly at random.", DefaultValueFactory = _ => 10_000 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds per workload.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup-seconds") { Description = "Seconds of load before measuring (not recorded).", DefaultValueFactory = _ => 2 };
        var noPreload = new Option<bool>("--no-preload") { Description = "Do not write every key before get and mixed runs." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };

        connections.Validators.Add(result => RequireRange(result, 1, 4096));
        valueBytes.Validators.Add(result => RequireRange(result, 0, 1024 * 1024));
        keys.Validators.Add(result => RequireRange(result, 1, 1_000_000));
        seconds.Validators.Add(result => RequireRange(result, 1, 3600));
        warmup.Validators.Add(result => RequireRange(result, 0, 600));

        var command = new Command("http", $"Load AzKv (or etcd, for comparison) over HTTP/1.1 keep-alive: ops/s, p50/p99/p99.9 latency, records per append. The server is the global --url (for --target etcd its client URL, default {DefaultEtcdUrl}).")
        {
            target,
            workload,
            connections,
            valueBytes,
            keys,
            seconds,
            warmup,
            noPreload,
            json,
        };

        command.SetAction(async (parseResult, invocationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var kind = parseResult.GetValue(target) == "etcd" ? BenchTarget.Etcd : BenchTarget.AzKv;
            if (!TryParseWorkloads(parseResult.GetValue(workload)!, kind, out var workloads, out var problem))
            {
                await error.WriteLineAsync(problem).ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            // The global --url names the server; its default (AZKV_URL, else a local node) only suits AzKv.
            var given = parseResult.GetResult(ClientOptions.Url) is { Implicit: false };
            var urlText = given ? parseResult.GetValue(ClientOptions.Url)! : kind == BenchTarget.Etcd ? DefaultEtcdUrl : ClientOptions.DefaultUrlFromEnvironment();
            if (!Uri.TryCreate(urlText.Split(',')[0].Trim(), UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            {
                await error.WriteLineAsync($"--url: '{urlText}' is not an absolute http(s) URL.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            using var shutdown = new ShutdownSignal(invocationToken);
            var results = new List<HttpBenchResult>();
            try
            {
                foreach (var one in workloads)
                {
                    var settings = new HttpBenchSettings(
                        kind,
                        baseUrl,
                        one,
                        parseResult.GetValue(connections),
                        parseResult.GetValue(valueBytes),
                        parseResult.GetValue(keys),
                        TimeSpan.FromSeconds(parseResult.GetValue(seconds)),
                        TimeSpan.FromSeconds(parseResult.GetValue(warmup)),
                        Preload: !parseResult.GetValue(noPreload));
                    results.Add(await HttpBenchRunner.RunAsync(settings, error, shutdown.Token).ConfigureAwait(false));
                }
            }
            catch (OperationCanceledException) when (shutdown.IsRequested)
            {
                return ExitCodes.Interrupted;
            }

            await WriteTableAsync(results, output).ConfigureAwait(false);
            if (parseResult.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, BenchJsonContext.Serialize(new HttpBenchReport(Environment.ProcessorCount, results)) + "\n", shutdown.Token).ConfigureAwait(false);
            }

            // A run where no operation succeeded, or a connection gave up, did not measure the server.
            return results.TrueForAll(r => r.Operations > 0 && r.Stopped is null) ? ExitCodes.Ok : ExitCodes.Error;
        });
        return command;
    }

    /// <summary>Parses <c>put,get,mixed,ceiling</c>; the ceiling is AzKv's <c>/healthz</c>, so only for that target.</summary>
    internal static bool TryParseWorkloads(string text, BenchTarget target, out List<BenchWorkload> workloads, out string? problem)
    {
        workloads = [];
        problem = null;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BenchWorkload? parsed = part.ToLowerInvariant() switch
            {
                "put" => BenchWorkload.Put,
                "get" => BenchWorkload.Get,
                "mixed" => BenchWorkload.Mixed,
                "ceiling" => BenchWorkload.Ceiling,
                _ => null,
            };
            if (parsed is null)
            {
                problem = $"--workload: '{part}' is not one of put, get, mixed, ceiling.";
                return false;
            }

            if (parsed == BenchWorkload.Ceiling && target != BenchTarget.AzKv)
            {
                problem = "--workload ceiling measures AzKv's GET /healthz; use it with --target azkv.";
                return false;
            }

            workloads.Add(parsed.Value);
        }

        if (workloads.Count == 0)
        {
            problem = "--workload: name at least one of put, get, mixed, ceiling.";
            return false;
        }

        return true;
    }

    private static void RequireRange(OptionResult result, int min, int max)
    {
        var value = result.GetValueOrDefault<int>();
        if (value < min || value > max)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{result.Option.Name} must be from {min} to {max}."));
        }
    }

    private static async Task WriteTableAsync(List<HttpBenchResult> results, TextWriter output)
    {
        if (results.Count == 0)
        {
            return;
        }

        var first = results[0];
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"bench http: {first.Target} at {first.Url}, {first.Connections} connections, {first.ValueBytes}-byte values, {first.Keys} keys, {first.Seconds:0} s measured after {first.WarmupSeconds:0} s warm-up, {first.Cores} cores shared by generator and servers")).ConfigureAwait(false);
        var table = new Table("workload", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "ops", "errors", "records/append", "connections");
        foreach (var r in results)
        {
            table.Add(
                r.Workload,
                r.OpsPerSec.ToString("N0", CultureInfo.InvariantCulture),
                r.P50Ms.ToString("0.000", CultureInfo.InvariantCulture),
                r.P99Ms.ToString("0.000", CultureInfo.InvariantCulture),
                r.P999Ms.ToString("0.000", CultureInfo.InvariantCulture),
                r.MaxMs.ToString("0.000", CultureInfo.InvariantCulture),
                r.Operations.ToString(CultureInfo.InvariantCulture),
                r.Errors == 0 ? "0" : string.Create(CultureInfo.InvariantCulture, $"{r.Errors} ({string.Join(", ", r.ErrorsByReason.Select(e => $"{e.Key} x{e.Value}"))})"),
                r.RecordsPerAppend?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-",
                string.Create(CultureInfo.InvariantCulture, $"{r.ConnectionsOpened} opened"));
        }

        await table.WriteAsync(output).ConfigureAwait(false);
        foreach (var r in results)
        {
            foreach (var why in r.Stopped ?? [])
            {
                await output.WriteLineAsync($"  {r.Workload}: a connection stopped early: {why}").ConfigureAwait(false);
            }
        }
    }
}
