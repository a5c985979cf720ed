using System.Diagnostics;
using System.Text;

namespace AzKv.Testing.Cli;

/// <summary>The output of one azkv run.</summary>
public sealed record CliResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public override string ToString() => $"exit {ExitCode}\nstdout: {StdoutText}\nstderr: {Stderr}";
}

/// <summary>Runs the built CLI (<c>dotnet azkv.dll ...</c>) as a separate process.</summary>
public static class CliRunner
{
    private static readonly Lazy<string> LazyAssemblyPath = new(FindAssembly);

    /// <summary>The CLI's own build output: src/AzKv.Cli/bin/&lt;configuration&gt;/net10.0/azkv.dll.</summary>
    public static string AssemblyPath => LazyAssemblyPath.Value;

    /// <summary>The dotnet host running the tests.</summary>
    public static string DotnetPath => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>A start info for <c>dotnet azkv.dll &lt;args&gt;</c>, all streams redirected.</summary>
    public static ProcessStartInfo CreateStartInfo(IEnumerable<string> args, string? url = null)
    {
        var startInfo = new ProcessStartInfo(DotnetPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(AssemblyPath);
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        startInfo.Environment.Remove("AZKV_URL");
        if (url is not null)
        {
            startInfo.Environment["AZKV_URL"] = url;
        }

        return startInfo;
    }

    /// <summary>Runs azkv against the node at <paramref name="url"/> to completion (30 s at most).</summary>
    public static Task<CliResult> RunAsync(Uri url, params string[] args) => RunAsync(args, url.ToString());

    /// <summary>Runs azkv to completion (30 s at most) and returns its exit code and output.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="url">AZKV_URL, or null for none.</param>
    /// <param name="stdin">Standard input, or null for none.</param>
    /// <param name="environment">Variables to set (a null value removes one).</param>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, string? url = null, byte[]? stdin = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var startInfo = CreateStartInfo(args, url);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start dotnet.");
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
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

        await copyOut;
        return new CliResult(process.ExitCode, stdout.ToArray(), await readErr);
    }

    private static string FindAssembly()
    {
        // tests/<project>/bin/<configuration>/net10.0/ → the same configuration of the CLI.
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = baseDirectory.Parent?.Name ?? "Debug";
        var path = Path.Combine(RepositoryFiles.Root, "src", "AzKv.Cli", "bin", configuration, baseDirectory.Name, "azkv.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The CLI is not built: {path}");
    }
}
