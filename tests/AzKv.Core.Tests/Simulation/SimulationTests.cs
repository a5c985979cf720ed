using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace AzKv.Core.Tests.Simulation;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimulationCollection
{
    /// <summary>Runs alone: the scheduler waits for the whole thread pool to be idle between decisions.</summary>
    public const string Name = "simulation";
}

/// <summary>
/// Deterministic simulation of owners, clients and faults on one partition (see
/// <see cref="SimulationWorld"/> and docs/testing.md): every history is checked for
/// linearizability and for lost acknowledged writes.
/// </summary>
[Collection(SimulationCollection.Name)]
public sealed class SimulationTests(ITestOutputHelper output)
{
    /// <summary>Seeds CI runs; <c>AZKV_SIM_SEEDS=N</c> runs N.</summary>
    private const int DefaultSeeds = 200;

    [Fact]
    public async Task Run_WhenManySeedsRunWithEveryFaultClass_EveryHistoryIsLinearizable()
    {
        var seeds = int.TryParse(Environment.GetEnvironmentVariable("AZKV_SIM_SEEDS"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultSeeds;
        var first = int.TryParse(Environment.GetEnvironmentVariable("AZKV_SIM_FIRST_SEED"), CultureInfo.InvariantCulture, out var f) ? f : 1;
        var keepGoing = Environment.GetEnvironmentVariable("AZKV_SIM_KEEP_GOING") == "1";
        var watch = Stopwatch.StartNew();
        var results = await RunOnOwnThreadAsync(() =>
        {
            var list = new List<SimulationResult>();
            for (var seed = first; seed < first + seeds; seed++)
            {
                var result = new SimulationWorld(CiOptions(seed)).Run();
                list.Add(result);
                if (!result.Passed && !keepGoing)
                {
                    break;
                }
            }

            return list;
        });

        var failed = results.FirstOrDefault(r => !r.Passed);
        output.WriteLine($"{results.Count} seeds from {first} in {watch.Elapsed.TotalSeconds:F1} s " +
            $"({watch.Elapsed.TotalMilliseconds / Math.Max(1, results.Count):F0} ms per seed), " +
            $"{results.Sum(r => r.Operations)} operations, {results.Sum(r => r.Unknown)} indeterminate");
        var totals = results.SelectMany(r => r.Stats).GroupBy(kv => kv.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);
        output.WriteLine(string.Join(", ", totals.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")));
        foreach (var result in results.Where(r => !r.Passed))
        {
            output.WriteLine($"seed {result.Options.Seed} failed: {result.Failures[0].Split('\n')[0]}");
        }

        Assert.True(failed is null, $"{results.Count(r => !r.Passed)} of {results.Count} seeds failed; the first: {failed?.Report()}");
        Assert.Equal(seeds, results.Count);

        // Every fault class CI claims to run did happen (a switch left off, or a change that makes
        // a class unreachable, shows up here instead of as a quietly weaker suite).
        if (seeds >= 100)
        {
            foreach (var fault in new[]
            {
                "fault.kill", "fault.pause-longer-than-lease", "fault.pause-short", "storage.BreakLease", "fault.5xx",
                "fault.lost-response", "fault.timeout-not-sent", "fault.torn-append", "fault.clock-jump", "fault.client-timeout",
                "fault.late-request", "handover", "ops.Cas.Ok", "ops.Write.Unknown",
            })
            {
                Assert.True(totals.GetValueOrDefault(fault) > 0, $"no '{fault}' in {seeds} seeds");
            }
        }
    }

    [Fact]
    public async Task Run_WhenAStaleReadBugIsPlanted_FindsIt()
    {
        // The suite can fail: with a node that serves reads from a stopped owner's state, some
        // seed among the first 100 produces a history the checker rejects.
        var found = await RunOnOwnThreadAsync(() =>
        {
            for (var seed = 1; seed <= 100; seed++)
            {
                var result = new SimulationWorld(CiOptions(seed) with { PlantStaleReads = true }).Run();
                if (!result.Passed)
                {
                    return result;
                }
            }

            return null;
        });

        Assert.NotNull(found);
        output.WriteLine($"found with seed {found.Options.Seed}");
        Assert.Contains("not linearizable", found.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WhenSeedIsGiven_ReplaysIt()
    {
        // AZKV_SIM_SEED=<seed> replays one failing seed exactly (with the full trace in the output).
        var seed = int.TryParse(Environment.GetEnvironmentVariable("AZKV_SIM_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 42;
        var result = await RunOnOwnThreadAsync(() => new SimulationWorld(CiOptions(seed)).Run());

        foreach (var line in result.Trace)
        {
            output.WriteLine(line);
        }

        Assert.True(result.Passed, result.Report());
    }

    [Fact]
    public async Task Run_WhenTheSameSeedRunsTwice_MakesTheSameDecisions()
    {
        foreach (var seed in new[] { 7, 12, 89 })
        {
            var (first, second) = await RunOnOwnThreadAsync(() =>
                (new SimulationWorld(CiOptions(seed)).Run(), new SimulationWorld(CiOptions(seed)).Run()));

            for (var i = 0; i < Math.Min(first.Trace.Count, second.Trace.Count); i++)
            {
                Assert.True(first.Trace[i] == second.Trace[i], $"seed {seed} diverged at decision {i}: '{first.Trace[i]}' vs '{second.Trace[i]}'");
            }

            Assert.Equal(first.Trace.Count, second.Trace.Count);
            Assert.Equal(first.TraceHash, second.TraceHash);
        }
    }

    /// <summary>The fault classes CI runs (see docs/testing.md for the ones that are off and why).</summary>
    private static SimulationOptions CiOptions(int seed) => new() { Seed = seed, TrustDefiniteFailures = Environment.GetEnvironmentVariable("AZKV_SIM_TRUST") != "0" };

    private static Task<T> RunOnOwnThreadAsync<T>(Func<T> run)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                completion.SetResult(run());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "simulation",
        };
        thread.Start();
        return completion.Task;
    }
}
