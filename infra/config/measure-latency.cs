#:project ../../src/AzKv.Extensions.Configuration/AzKv.Extensions.Configuration.csproj
#:property TreatWarningsAsErrors=true
// Measures the time from a write to an app (using the AzKv configuration provider, with the watch)
// seeing it: 100 changes each against a running store, after a restart of the store on the same
// --data folder (persistent Azurite data), and after the store was wiped (a fresh --data folder:
// the app must re-list, and a key that only the old store had must disappear).
//
// Usage (from the repository root, after `dotnet build src/AzKv.Cli`):
//   dotnet run infra/config/measure-latency.cs -- [changes=100] [port=18480]
// Starts `azkv up --no-auth` itself (src/AzKv.Cli/bin/Debug/net10.0/azkv) on 127.0.0.1:<port>, stops it with
// SIGINT between phases. Prints one line per phase: first change after the (re)start, p50, p99, max
// in ms, the changes missed, and the load average at the start and end.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text;
using AzKv.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

var changes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 18480;
var root = FindRoot();
var azkv = Path.Combine(root, "src/AzKv.Cli/bin/Debug/net10.0/azkv");
if (!File.Exists(azkv))
{
    Console.Error.WriteLine($"{azkv} is missing: run `dotnet build src/AzKv.Cli` first.");
    return 2;
}

var work = Directory.CreateTempSubdirectory("azkv-measure-");
var data = Path.Combine(work.FullName, "data");
var url = new Uri($"http://127.0.0.1:{port}");
Console.WriteLine($"load average at start: {LoadAverage()}");

var store = await StartAsync(data);
using var writer = new AzKvClient(url);
await writer.PutStringAsync("lat/k", "init");
await writer.PutStringAsync("lat/only-in-old-store", "x");

var seen = new Dictionary<string, long>();
var configuration = new ConfigurationBuilder()
    .AddAzKv(o =>
    {
        o.Connect(url).Select("lat/");
        o.StartupTimeout = TimeSpan.FromSeconds(30);
        o.CacheDirectory = Path.Combine(work.FullName, "cache");
    })
    .Build();
using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () =>
{
    var value = configuration["k"];
    var now = Stopwatch.GetTimestamp();
    lock (seen)
    {
        if (value is not null)
        {
            seen.TryAdd(value, now);
        }

        Monitor.PulseAll(seen);
    }
});

try
{
    await PhaseAsync("watch (store running)", "a");

    await StopAsync(store);
    store = await StartAsync(data);
    await PhaseAsync("after a restart on the same --data", "b");

    await StopAsync(store);
    store = await StartAsync(Path.Combine(work.FullName, "wiped"));
    await PhaseAsync("after the store was wiped (new --data)", "c");
    var gone = await WaitAsync(() => configuration["only-in-old-store"] is null, TimeSpan.FromSeconds(60));
    Console.WriteLine($"  key of the old store only: {(gone ? "removed (re-listed)" : "STILL PRESENT after 60 s")}");
}
finally
{
    (configuration as IDisposable)?.Dispose();
    await StopAsync(store);
    Console.WriteLine($"load average at end: {LoadAverage()}");
    try
    {
        work.Delete(recursive: true);
    }
    catch (IOException)
    {
    }
}

return 0;

async Task PhaseAsync(string name, string tag)
{
    var latencies = new List<double>();
    var missed = 0;
    for (var i = 0; i < changes; i++)
    {
        var value = $"{tag}-{i}";
        var started = Stopwatch.GetTimestamp();
        await writer.PutStringAsync("lat/k", value);
        long at = 0;
        var arrived = await WaitAsync(() =>
        {
            lock (seen)
            {
                return seen.TryGetValue(value, out at);
            }
        }, TimeSpan.FromSeconds(60));
        if (!arrived)
        {
            missed++;
            continue;
        }

        latencies.Add(Stopwatch.GetElapsedTime(started, at).TotalMilliseconds);
    }

    var sorted = latencies.Order().ToArray();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: {changes} changes, missed {missed}; first {latencies.FirstOrDefault():0.0} ms, p50 {Percentile(sorted, 0.50):0.0} ms, p99 {Percentile(sorted, 0.99):0.0} ms, max {sorted.LastOrDefault():0.0} ms (load {LoadAverage()})"));
}

static double Percentile(double[] sorted, double q) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan deadline)
{
    var watch = Stopwatch.StartNew();
    while (!condition())
    {
        if (watch.Elapsed > deadline)
        {
            return false;
        }

        await Task.Delay(1);
    }

    return true;
}

async Task<Process> StartAsync(string dataFolder)
{
    var info = new ProcessStartInfo(azkv)
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    // --no-auth: a wiped store makes a new signing key (under --data), so a token of the old store would be refused.
    foreach (var argument in new[] { "up", "--no-auth", "--data", dataFolder, "--base-port", port.ToString(CultureInfo.InvariantCulture) })
    {
        info.ArgumentList.Add(argument);
    }

    var watch = Stopwatch.StartNew();
    var process = Process.Start(info) ?? throw new InvalidOperationException("azkv up did not start.");
    _ = process.StandardError.ReadToEndAsync();
    while (await process.StandardOutput.ReadLineAsync() is { } line)
    {
        if (line.Trim() == "ready")
        {
            _ = process.StandardOutput.ReadToEndAsync();
            Console.WriteLine($"  azkv up --data {Path.GetFileName(dataFolder)} ready in {watch.ElapsedMilliseconds} ms");
            return process;
        }
    }

    throw new InvalidOperationException("azkv up exited before it was ready.");
}

static async Task StopAsync(Process process)
{
    if (process.HasExited)
    {
        return;
    }

    using (var signal = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))
    {
        await signal!.WaitForExitAsync();
    }

    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
    try
    {
        await process.WaitForExitAsync(timeout.Token);
    }
    catch (OperationCanceledException)
    {
        process.Kill(entireProcessTree: true);
    }
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string FindRoot()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "AzKv.sln")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Run from inside the repository.");
}
