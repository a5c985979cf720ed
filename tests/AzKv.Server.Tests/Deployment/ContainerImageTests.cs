using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace AzKv.Server.Tests.Deployment;

/// <summary>
/// The owner image (infra/container/Dockerfile) cannot be built here (no Docker engine), so its
/// contract with what deploys it is checked instead: the entry point is the assembly that
/// infra/deploy.sh publishes, and the port the image listens on and exposes is the port the
/// Container App's ingress and probes use (bicep/modules/ownerApp.bicep).
/// </summary>
public sealed partial class ContainerImageTests
{
    private static string Root => AzKv.Testing.RepositoryFiles.Root;

    private static string Dockerfile => File.ReadAllText(Path.Combine(Root, "infra", "container", "Dockerfile"));

    private static string OwnerApp => File.ReadAllText(Path.Combine(Root, "bicep", "modules", "ownerApp.bicep"));

    [Fact]
    public void Entrypoint_WhenComparedWithTheDeployScript_RunsTheAssemblyItPublishes()
    {
        var entrypoint = Entrypoint().Match(Dockerfile);
        var published = ServerProject().Match(File.ReadAllText(Path.Combine(Root, "infra", "deploy.sh")));
        Assert.True(entrypoint.Success, "the Dockerfile has no exec-form ENTRYPOINT [\"dotnet\", \"<assembly>.dll\"]");
        Assert.True(published.Success, "infra/deploy.sh names no server_project");

        var project = XDocument.Load(Path.Combine(Root, published.Groups["path"].Value));
        var assemblyName = project.Descendants("AssemblyName").FirstOrDefault()?.Value
            ?? Path.GetFileNameWithoutExtension(published.Groups["path"].Value);

        Assert.Equal(assemblyName + ".dll", entrypoint.Groups["dll"].Value);
    }

    [Fact]
    public void Port_WhenComparedWithTheOwnerApp_IsTheIngressAndProbePort()
    {
        var bicepPort = BicepPort().Match(OwnerApp);
        Assert.True(bicepPort.Success, "ownerApp.bicep has no `var port = <n>`");
        var port = bicepPort.Groups["port"].Value;

        Assert.Contains($"EXPOSE {port}", Dockerfile, StringComparison.Ordinal);
        Assert.Matches($@"ENV AzKv__Urls=http://0\.0\.0\.0:{port}\b", Dockerfile);
        Assert.Contains("targetPort: port", OwnerApp, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(OwnerApp, @"port: port\b").Count);
    }

    [Fact]
    public void Image_WhenTheOwnerAppPullsIt_RunsAsTheNonRootUserOnTheAspNetRuntime()
    {
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/aspnet:10\.0\s*$", Dockerfile);
        Assert.Matches(@"(?m)^USER \$APP_UID\s*$", Dockerfile);
        Assert.Contains("image: image", OwnerApp, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?m)^ENTRYPOINT \[""dotnet"",\s*""(?<dll>[^""]+\.dll)""\]\s*$")]
    private static partial Regex Entrypoint();

    [GeneratedRegex(@"(?m)^(?:readonly )?server_project=""?(?<path>[^""\s]+\.csproj)""?")]
    private static partial Regex ServerProject();

    [GeneratedRegex(@"(?m)^var port = (?<port>\d+)\s*$")]
    private static partial Regex BicepPort();
}
