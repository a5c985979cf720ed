using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;
using AzKv.Client;
using AzKv.Testing.Azurite;
using AzKv.Testing.Server;
using Xunit.Abstractions;

namespace AzKv.Cli.Tests.Packaging;

/// <summary>
/// AzKv the way a .NET user installs it: <c>dotnet pack</c> makes the three packages, the azkv tool
/// installs from them and talks to a live node, and a new console app that references both
/// libraries from the local folder builds and reads a key and a feature flag.
/// </summary>
/// <remarks>
/// Each run packs a version of its own (<c>0.0.0-test.&lt;id&gt;</c>), so NuGet's package cache
/// can never hand an older build of the same version to the app, and removes it from the cache
/// afterwards.
/// </remarks>
[Collection(CliProcessCollection.Name)]
public sealed class PackagingTests : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(6);

    private readonly AzuriteFixture _azurite;
    private readonly ITestOutputHelper _output;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "azkv-pack-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _version = "0.0.0-test." + Guid.NewGuid().ToString("N")[..12];
    private InProcessServer? _server;

    public PackagingTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _azurite = azurite;
        _output = output;
    }

    private string Packages => Path.Combine(_work, "packages");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Packages);
        _server = await InProcessServer.StartAsync(_azurite.ConnectionString, InProcessServer.NewContainer());
        var root = AzKv.Testing.RepositoryFiles.Root;
        foreach (var project in new[] { "src/AzKv.Client", "src/AzKv.Extensions.Configuration", "src/AzKv.Cli" })
        {
            await RunAsync(root, "dotnet", "pack", Path.Combine(root, project), "-c", "Release", "-o", Packages, "-p:Version=" + _version, "--nologo");
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        TryDelete(_work);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "azkv.client", "azkv.extensions.configuration", "azkv" })
        {
            TryDelete(Path.Combine(cache, id, _version));
        }
    }

    [Fact]
    public void Pack_WhenTheSolutionIsPacked_MakesThreePackagesWithMetadataReadmeDocsAndSymbols()
    {
        foreach (var id in new[] { "AzKv.Client", "AzKv.Extensions.Configuration", "azkv" })
        {
            var package = Path.Combine(Packages, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(package), $"{package} was not written");
            Assert.True(File.Exists(Path.Combine(Packages, $"{id}.{_version}.snupkg")), $"no symbol package for {id}");
            using var zip = ZipFile.OpenRead(package);
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? string.Empty;

            Assert.Equal(id, Field("id"));
            Assert.Equal(_version, Field("version"));
            Assert.False(string.IsNullOrWhiteSpace(Field("authors")));
            Assert.True(Field("description").Length > 40, $"{id}: description '{Field("description")}'");
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            Assert.StartsWith("https://", metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("url")!.Value, StringComparison.Ordinal);
            if (id != "azkv")
            {
                Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{id}.xml");
            }
        }

        using (var tool = ZipFile.OpenRead(Path.Combine(Packages, $"azkv.{_version}.nupkg")))
        {
            // `azkv up` installs Azurite from the pin that ships with the tool.
            Assert.Contains(tool.Entries, e => e.FullName == "tools/net10.0/any/infra/azurite/package-lock.json");
            Assert.Contains(tool.Entries, e => e.FullName == "tools/net10.0/any/azkv.dll");
            Assert.Contains(tool.Entries, e => e.FullName == "tools/net10.0/any/DotnetToolSettings.xml");
        }

        using var configuration = ZipFile.OpenRead(Path.Combine(Packages, $"AzKv.Extensions.Configuration.{_version}.nupkg"));
        var spec = new StreamReader(configuration.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
        Assert.Contains($"id=\"AzKv.Client\" version=\"{_version}\"", spec, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolInstall_WhenInstalledFromTheLocalFolder_PrintsItsVersionAndReadsAKeyFromALiveNode()
    {
        var tools = Path.Combine(_work, "tools");
        await RunAsync(_work, "dotnet", "tool", "install", "azkv", "--tool-path", tools, "--add-source", Packages, "--version", _version);
        var azkv = Path.Combine(tools, "azkv");
        using (var client = new AzKvClient(_server!.Url))
        {
            await client.PutStringAsync("packaged/greeting", "hello from a package");
        }

        var version = await RunAsync(_work, azkv, "--version");
        var value = await RunAsync(_work, azkv, "--url", _server.Url.ToString(), "get", "packaged/greeting");

        Assert.StartsWith(_version, version.Trim(), StringComparison.Ordinal);
        Assert.Equal("hello from a package", value.TrimEnd('\n'));
    }

    [Fact]
    public async Task NewApp_WhenItReferencesBothPackagesFromTheLocalFolder_BuildsAndReadsAKeyAndAFlag()
    {
        using (var client = new AzKvClient(_server!.Url))
        {
            await client.PutStringAsync("consumer/Greeting", "hi");
            await client.PutAsync(
                AzKvFeatureFlags.KeyFor("Beta"),
                Encoding.UTF8.GetBytes("""{"id":"Beta","enabled":true}"""),
                AzKvFeatureFlags.ContentType);
        }

        var app = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="azkv-local" value="{Packages}" />
              </packageSources>
            </configuration>
            """);
        // A project outside the repository: no Directory.Build.props or central versions apply.
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.props"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Packages.props"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(app, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AzKv.Client" Version="{_version}" />
                <PackageReference Include="AzKv.Extensions.Configuration" Version="{_version}" />
                <PackageReference Include="Microsoft.FeatureManagement" Version="4.7.0" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using AzKv.Client;
            using Microsoft.Extensions.Configuration;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.FeatureManagement;

            var url = new Uri(args[0]);
            using var client = new AzKvClient(url);
            Console.WriteLine("key: " + await client.GetStringAsync("consumer/Greeting"));

            var configuration = new ConfigurationBuilder()
                .AddAzKv(o => o.Connect(url).Select("consumer/").UseFeatureFlags())
                .Build();
            var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
            services.AddFeatureManagement();
            await using var provider = services.BuildServiceProvider();
            var features = provider.GetRequiredService<IFeatureManager>();
            Console.WriteLine("setting: " + configuration["Greeting"]);
            Console.WriteLine("flag: " + (await features.IsEnabledAsync("Beta") ? "on" : "off"));
            """);

        await RunAsync(app, "dotnet", "build", "-c", "Release", "--nologo", "-v", "q");
        var output = await RunAsync(app, "dotnet", Path.Combine(app, "bin", "Release", "net10.0", "consumer.dll"), _server.Url.ToString());

        Assert.Contains("key: hi\n", output, StringComparison.Ordinal);
        Assert.Contains("setting: hi\n", output, StringComparison.Ordinal);
        Assert.Contains("flag: on\n", output, StringComparison.Ordinal);
    }

    private async Task<string> RunAsync(string workingDirectory, string fileName, params string[] args)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        // A nested dotnet must not inherit the test host's MSBuild and NuGet settings.
        foreach (var name in new[] { "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "VSTEST_HOST_DEBUG" })
        {
            startInfo.Environment.Remove(name);
        }

        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment.Remove("AZKV_URL");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {CommandTimeout}.");
        }

        var output = await stdout;
        var errors = await stderr;
        _output.WriteLine($"{Path.GetFileName(fileName)} {string.Join(' ', args)}: exit {process.ExitCode} in {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(process.ExitCode == 0, $"{fileName} {string.Join(' ', args)} exited {process.ExitCode}\n{output}\n{errors}");
        return output;
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is not a test failure.
        }
    }

}
