using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace AzKv.Server.Tests.Deployment;

/// <summary>
/// Issue 13 §3: the templates are read by the real Bicep compiler (Azure.Bicep.CommandLine 0.49.2,
/// fetched by restore as a PackageDownload; its path is the <c>BicepPath</c> assembly metadata).
/// <c>bicep build</c> and <c>bicep lint</c> must report no error and no warning, and the example
/// parameters file must compile against <c>main.bicep</c>'s parameters.
/// </summary>
public sealed class BicepCompilerTests
{
    private const string MainTemplate = "bicep/main.bicep";

    /// <summary>The shared machine is slow at times; the compiler itself needs a few seconds.</summary>
    private static readonly TimeSpan CompilerTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The parameters infra/deploy.sh passes on the command line, beside the file (deployApps has a default).</summary>
    private static readonly string[] DeployScriptParameters = ["param ownerImageTag = '20261205000000-abcdef0'"];

    [Fact]
    public async Task Build_WhenMainTemplateIsCompiled_ReportsNoErrorOrWarningAndWritesAnArmTemplate()
    {
        var result = await RunBicepAsync(["build", RepositoryPath(MainTemplate), "--stdout"]);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.True(result.Diagnostics.Count == 0, result.Describe());
        using var arm = JsonDocument.Parse(result.StandardOutput);
        Assert.Contains("subscriptionDeploymentTemplate", arm.RootElement.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        Assert.True(arm.RootElement.GetProperty("parameters").TryGetProperty("regions", out _));
    }

    [Fact]
    public async Task Lint_WhenMainTemplateIsLinted_ReportsNoDiagnostic()
    {
        var result = await RunBicepAsync(["lint", RepositoryPath(MainTemplate)]);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.True(result.Diagnostics.Count == 0, result.Describe());
    }

    [Fact]
    public async Task Lint_WhenATemplateHasAnUnusedParameter_ReportsTheWarning()
    {
        // The check above can fail: a linter finding is reported and counted.
        using var directory = new TemporaryDirectory();
        var file = Path.Combine(directory.Path, "unused.bicep");
        await File.WriteAllTextAsync(file, "param unused string\n");

        var result = await RunBicepAsync(["lint", file]);

        Assert.Contains(result.Diagnostics, d => d.Contains("no-unused-params", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BuildParams_WhenTheExampleParametersFileIsCompiledAgainstMain_ReportsNoDiagnostic()
    {
        var result = await BuildExampleParametersAsync(extraLines: DeployScriptParameters);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.True(result.Diagnostics.Count == 0, result.Describe());
        using var output = JsonDocument.Parse(result.StandardOutput);
        using var parameters = JsonDocument.Parse(output.RootElement.GetProperty("parametersJson").GetString()!);
        Assert.Equal("azkv", parameters.RootElement.GetProperty("parameters").GetProperty("namePrefix").GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("param ownerCont = 3", "BCP259")] // a name main.bicep does not declare
    [InlineData("param logRetentionDays = 'forever'", "BCP033")] // a value of the wrong type
    public async Task BuildParams_WhenTheParametersDoNotMatchMain_ReportsAnError(string line, string code)
    {
        var result = await BuildExampleParametersAsync(extraLines: [.. DeployScriptParameters, line]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(result.Diagnostics, d => d.Contains(code, StringComparison.Ordinal));
    }

    /// <summary>
    /// Converts <c>bicep/main.parameters.json</c> (the JSON that infra/deploy.sh passes to az) to a
    /// <c>.bicepparam</c> beside a copy of the templates, with <paramref name="extraLines"/> appended,
    /// and compiles it: the compiler checks every name, type and constraint against main.bicep.
    /// </summary>
    private static async Task<BicepResult> BuildExampleParametersAsync(IEnumerable<string> extraLines)
    {
        using var directory = new TemporaryDirectory();
        CopyDirectory(RepositoryPath("bicep"), directory.Path);
        var json = Path.Combine(directory.Path, "main.parameters.json");
        var decompiled = await RunBicepAsync(["decompile-params", json, "--bicep-file", Path.Combine(directory.Path, "main.bicep"), "--stdout"]);
        Assert.True(decompiled.ExitCode == 0, decompiled.Describe());
        Assert.StartsWith("using 'main.bicep'", decompiled.StandardOutput, StringComparison.Ordinal);

        var bicepParam = Path.Combine(directory.Path, "main.bicepparam");
        await File.WriteAllTextAsync(bicepParam, decompiled.StandardOutput + "\n" + string.Join("\n", extraLines) + "\n");
        return await RunBicepAsync(["build-params", bicepParam, "--stdout"]);
    }

    private static async Task<BicepResult> RunBicepAsync(IReadOnlyList<string> arguments)
    {
        var bicep = BicepPath();
        var start = new ProcessStartInfo(bicep)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Offline and quiet: no telemetry, no version check against the network.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {bicep}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CompilerTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {CompilerTimeout}.");
        }

        var standardOutput = await output;
        var standardError = await error;
        // Diagnostics are lines "file(line,col) : Error|Warning|Info CODE: text"; lint writes them to
        // stdout or stderr depending on the command, so both are read.
        var diagnostics = (standardError + "\n" + (arguments[0] == "lint" ? standardOutput : string.Empty))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains(" : Error ", StringComparison.Ordinal) || l.Contains(" : Warning ", StringComparison.Ordinal) || l.Contains(" : Info ", StringComparison.Ordinal))
            .ToList();
        return new BicepResult(arguments, process.ExitCode, standardOutput, standardError, diagnostics);
    }

    private static string BicepPath()
    {
        var path = typeof(BicepCompilerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "BicepPath")?.Value;
        Assert.False(string.IsNullOrEmpty(path), "The test assembly has no BicepPath metadata (tests/AzKv.Server.Tests/AzKv.Server.Tests.csproj).");
        Assert.True(File.Exists(path), $"The Bicep CLI is not at {path}: restore tests/AzKv.Server.Tests (it is a PackageDownload of Azure.Bicep.CommandLine.linux-x64).");
        if (!OperatingSystem.IsWindows())
        {
            // NuGet extraction does not promise the executable bit on every platform.
            var mode = File.GetUnixFileMode(path);
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
            }
        }

        return path;
    }

    private static string RepositoryPath(string relative) => AzKv.Testing.RepositoryFiles.PathOf(relative);

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    private sealed record BicepResult(IReadOnlyList<string> Arguments, int ExitCode, string StandardOutput, string StandardError, IReadOnlyList<string> Diagnostics)
    {
        public string Describe() =>
            $"bicep {string.Join(' ', Arguments)} exited {ExitCode} with {Diagnostics.Count} diagnostic(s):\n{string.Join('\n', Diagnostics)}\n{StandardError}";
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        public TemporaryDirectory()
        {
            Path = Directory.CreateTempSubdirectory("azkv-bicep-").FullName;
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
