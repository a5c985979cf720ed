using System.Diagnostics;
using System.Text;

namespace AzKv.Extensions.Configuration.Tests.Support;

/// <summary>The output of one azkv run.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs the built CLI (<c>dotnet azkv.dll ...</c>) as a separate process, as a user would.</summary>
public static class CliRunner
{
    private static readonly Lazy<string> LazyAssemblyPath = new(FindAssembly);

    /// <summary>Runs azkv against <paramref name="url"/> to completion (30 s at most).</summary>
    public static async Task<CliResult> RunAsync(Uri url, params string[] args)
    {
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(LazyAssemblyPath.Value);
        startInfo.ArgumentList.Add("--url");
        startInfo.ArgumentList.Add(url.ToString());
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start dotnet.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"azkv {string.Join(' ', args)} did not finish within 30 s.");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindAssembly()
    {
        // tests/<project>/bin/<configuration>/net10.0/ → the same configuration of the CLI.
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = baseDirectory.Parent?.Name ?? "Debug";
        for (var dir = baseDirectory; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AzKv.sln")))
            {
                var path = Path.Combine(dir.FullName, "src", "AzKv.Cli", "bin", configuration, baseDirectory.Name, "azkv.dll");
                return File.Exists(path) ? path : throw new FileNotFoundException($"The CLI is not built: {path}");
            }
        }

        throw new DirectoryNotFoundException("Could not find AzKv.sln above " + AppContext.BaseDirectory);
    }
}
