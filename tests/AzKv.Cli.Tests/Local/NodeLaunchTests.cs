using AzKv.Cli.Local;

namespace AzKv.Cli.Tests.Local;

public sealed class NodeLaunchTests
{
    private static readonly NodeLaunch.NodeSettings Node = new(
        "west", "node-2", NodeLaunch.NodeUrl(9000, 2), "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;", 8);

    [Fact]
    public void NodeUrl_WhenIndexIsOneBased_AddsIndexMinusOneToTheBasePort()
    {
        Assert.Equal(new Uri("http://127.0.0.1:9000"), NodeLaunch.NodeUrl(9000, 1));
        Assert.Equal(new Uri("http://127.0.0.1:9002"), NodeLaunch.NodeUrl(9000, 3));
    }

    [Fact]
    public void ServerArguments_WhenANodeIsDescribed_PassesEverySettingInColonForm()
    {
        var args = NodeLaunch.ServerArguments(Node);

        Assert.Equal(
            [
                "--AzKv:Region=west",
                "--AzKv:NodeId=node-2",
                "--AzKv:Urls=http://127.0.0.1:9001",
                "--AzKv:AdvertisedUrl=http://127.0.0.1:9001",
                "--AzKv:Storage:ConnectionString=" + Node.StorageConnectionString,
                "--AzKv:Cluster:PartitionCount=8",
                "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
                "--AzKv:Auth:Mode=None",
            ],
            args);
    }

    [Fact]
    public void ServerArguments_WhenAuthIsOn_PassesLocalModeAndTheKeyFile()
    {
        var args = NodeLaunch.ServerArguments(Node with { SigningKeyFile = "/data/auth/signing.key" });

        Assert.Contains("--AzKv:Auth:Mode=Local", args);
        Assert.Contains("--AzKv:Auth:SigningKeyFile=/data/auth/signing.key", args);
        Assert.DoesNotContain("--AzKv:Auth:Mode=None", args);
    }

    [Fact]
    public void ServerArguments_WhenTheNodeIsAFrontEnd_PassesItsRole()
    {
        var args = NodeLaunch.ServerArguments(Node with { NodeId = "frontend-1", Roles = "frontend" });

        Assert.Contains("--AzKv:Roles=frontend", args);
        Assert.DoesNotContain(NodeLaunch.ServerArguments(Node), a => a.StartsWith("--AzKv:Roles=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/usr/share/dotnet/dotnet")]
    [InlineData("/usr/lib/dotnet/dotnet")]
    public void CreateStartInfo_WhenRunUnderTheDotnetHost_RunsThisAssemblyWithServe(string processPath)
    {
        var startInfo = NodeLaunch.CreateStartInfo(processPath, "/app/azkv.dll", ["--AzKv:Region=west"]);

        Assert.Equal(processPath, startInfo.FileName);
        Assert.Equal(["/app/azkv.dll", "serve", "--AzKv:Region=west"], startInfo.ArgumentList);
    }

    [Fact]
    public void CreateStartInfo_WhenRunAsTheAppHost_RunsTheExecutableWithServe()
    {
        var startInfo = NodeLaunch.CreateStartInfo("/app/azkv", "/app/azkv.dll", ["--AzKv:Region=west"]);

        Assert.Equal("/app/azkv", startInfo.FileName);
        Assert.Equal(["serve", "--AzKv:Region=west"], startInfo.ArgumentList);
    }

    [Fact]
    public void CreateStartInfo_WhenCalled_TellsTheNodeItsParentAndRedirectsItsOutput()
    {
        var startInfo = NodeLaunch.CreateStartInfo("/app/azkv", "/app/azkv.dll", []);

        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), startInfo.Environment[NodeLaunch.ParentVariable]);
        Assert.True(startInfo.RedirectStandardOutput);
        Assert.True(startInfo.RedirectStandardError);
    }

    [Fact]
    public void NodeSettings_WhenPrinted_NeverShowsTheConnectionString()
    {
        Assert.DoesNotContain("AccountKey", Node.ToString(), StringComparison.Ordinal);
    }
}
