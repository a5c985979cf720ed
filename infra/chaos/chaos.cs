#:project ../../tests/AzKv.Testing/AzKv.Testing.csproj
#:property TreatWarningsAsErrors=true
// The process-level chaos run of issue 15 §3: Azurite on disk and 3 real node processes, clients
// recording a history (reads, writes, CAS with If-Match, deletes; Idempotency-Key on writes) while
// a nemesis kill -9s and restarts nodes, SIGSTOPs a node for longer than the lease and SIGSTOPs
// Azurite; then the history is checked with the linearizability checker of tests/AzKv.Testing
// and for lost acknowledged writes. The code is AzKv.Testing.Chaos (the CI test runs the same).
//
// Usage (from the repository root, after `dotnet build src/AzKv.Server`):
//   dotnet run infra/chaos/chaos.cs -- [--duration 60] [--seed N] [--clients 6] [--keys 6] [--nodes 3]
//                                      [--no-nemesis] [--work DIR] [--server PATH/AzKv.Server.dll]
//   dotnet run infra/chaos/chaos.cs -- --check DIR/history.jsonl     # check a saved history again
// Prints the faults as they happen, then ops ok/failed/unknown, faults by kind and the verdict.
// Exit code: 0 pass, 1 a violation (not linearizable, a lost write, an undefined answer, a wedge), 2 usage.
using System.Globalization;
using AzKv.Testing.Chaos;

var settings = new Dictionary<string, string>(StringComparer.Ordinal);
var flags = new HashSet<string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    if (args[i] is "--no-nemesis")
    {
        flags.Add(args[i]);
    }
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
    {
        settings[args[i]] = args[++i];
    }
    else
    {
        Console.Error.WriteLine($"unknown argument {args[i]}; see the comment at the top of infra/chaos/chaos.cs");
        return 2;
    }
}

if (settings.TryGetValue("--check", out var saved))
{
    var verdict = ChaosHistory.Check(ChaosHistory.Load(saved));
    var bad = verdict.Keys.Where(k => !k.IsLinearizable).ToList();
    Console.WriteLine($"{saved}: {verdict.Keys.Count} keys, {bad.Count} not linearizable, {verdict.LostWrites.Count} lost acknowledged writes");
    foreach (var lost in verdict.LostWrites)
    {
        Console.WriteLine("  lost: " + lost);
    }

    if (bad.FirstOrDefault() is { } first)
    {
        Console.WriteLine(first.Explanation);
    }

    Console.WriteLine(verdict.Passed ? "verdict: PASS" : "verdict: FAIL");
    return verdict.Passed ? 0 : 1;
}

int Int(string name, int fallback) => settings.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

var options = new ChaosOptions
{
    Duration = TimeSpan.FromSeconds(Int("--duration", 60)),
    Seed = Int("--seed", Random.Shared.Next()),
    Clients = Int("--clients", 6),
    Keys = Int("--keys", 6),
    Nodes = Int("--nodes", 3),
    Nemesis = !flags.Contains("--no-nemesis"),
    WorkDirectory = settings.GetValueOrDefault("--work"),
    ServerAssembly = settings.GetValueOrDefault("--server"),
    Log = Console.WriteLine,
};

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var report = await ChaosRun.RunAsync(options, cancel.Token);
Console.WriteLine(report);
return report.Passed ? 0 : 1;
