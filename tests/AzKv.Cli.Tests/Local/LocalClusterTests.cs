using AzKv.Cli.Local;

namespace AzKv.Cli.Tests.Local;

public sealed class LocalClusterTests
{
    [Fact]
    public void ConsoleLink_WhenAuthIsOn_CarriesTheTokenInTheFragmentOnly()
    {
        var link = new Uri(LocalCluster.ConsoleLink(new Uri("http://127.0.0.1:8080/"), "aaa.bbb-_.ccc"));

        Assert.Equal("/console", link.AbsolutePath);
        Assert.Equal(string.Empty, link.Query);
        Assert.Equal("#token=aaa.bbb-_.ccc", link.Fragment);
        Assert.Equal("http://127.0.0.1:8080/console#token=aaa.bbb-_.ccc", link.OriginalString);
    }

    [Fact]
    public void ConsoleLink_WhenAuthIsOff_IsThePlainConsoleAddress()
    {
        Assert.Equal("http://127.0.0.1:8081/console", LocalCluster.ConsoleLink(new Uri("http://127.0.0.1:8081"), null));
    }
}
