using AzKv.Local;

namespace AzKv.Cli.Tests.Local;

/// <summary>
/// How <see cref="AzuriteProcess.EnsureInstalledAsync"/> decides that the pinned Azurite is installed. Each test
/// installs a tiny package with no dependencies, so <c>npm ci</c> runs offline in well under a second.
/// </summary>
public sealed class AzuriteInstallTests : IDisposable
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(2);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-npm-" + Guid.NewGuid().ToString("N"));

    public AzuriteInstallTests()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "package.json"), """{ "name": "pin", "version": "1.0.0", "private": true }""");
        WriteLockFile("1.0.0");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string BlobMain => Path.Combine(_directory, "node_modules", "azurite", "dist", "src", "blob", "main.js");

    private string Sentinel => Path.Combine(_directory, "node_modules", "sentinel");

    private void WriteSentinel(string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Sentinel)!);
        File.WriteAllText(Sentinel, text);
    }

    private void WriteLockFile(string version) =>
        File.WriteAllText(Path.Combine(_directory, "package-lock.json"), $$"""
            {
              "name": "pin",
              "version": "{{version}}",
              "lockfileVersion": 3,
              "requires": true,
              "packages": { "": { "name": "pin", "version": "{{version}}" } }
            }
            """);

    [Fact]
    public async Task EnsureInstalledAsync_WhenOnlyPartOfTheTreeIsThere_ReinstallsIt()
    {
        // What another test assembly sees while its neighbour's `npm ci` is still unpacking: Azurite's
        // entry point is there, the modules it requires are not yet. Starting Azurite from it fails with
        // "Cannot find module".
        Directory.CreateDirectory(Path.GetDirectoryName(BlobMain)!);
        File.WriteAllText(BlobMain, "require('./not-unpacked-yet');");

        await AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None);

        Assert.False(File.Exists(BlobMain), "the half-unpacked tree was taken for a finished install");
    }

    [Fact]
    public async Task EnsureInstalledAsync_WhenTheInstallFinished_DoesNotRunNpmAgain()
    {
        await AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None);
        WriteSentinel("kept");

        await AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None);

        Assert.True(File.Exists(Sentinel), "npm ci ran again over a finished install");
    }

    [Fact]
    public async Task EnsureInstalledAsync_WhenTheLockFileChangedSinceTheInstall_ReinstallsIt()
    {
        await AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None);
        WriteSentinel("from the old pin");
        WriteLockFile("1.0.1");
        File.WriteAllText(Path.Combine(_directory, "package.json"), """{ "name": "pin", "version": "1.0.1", "private": true }""");

        await AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None);

        Assert.False(File.Exists(Sentinel), "a changed pin kept the tree installed from the old one");
    }

    [Fact]
    public async Task EnsureInstalledAsync_WhenCalledConcurrently_InstallsOnceAndEveryCallerSeesTheFinishedTree()
    {
        var calls = Enumerable.Range(0, 4)
            .Select(_ => Task.Run(() => AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None)))
            .ToArray();
        await Task.WhenAll(calls);
        WriteSentinel("kept");

        await AzuriteProcess.EnsureInstalledAsync(_directory, InstallTimeout, CancellationToken.None);

        Assert.True(File.Exists(Sentinel), "a caller ran npm ci again after the install had finished");
    }
}
