using AzKv.Cli.Local;

namespace AzKv.Cli.Tests.Local;

public sealed class UpSettingsTests
{
    private static readonly UpSettings Valid = new(1, 8080, null, "local", 32, TimeSpan.FromSeconds(120));

    [Fact]
    public void Validate_WhenEverySettingIsInRange_ReturnsNoProblem()
    {
        Assert.Empty(Valid.Validate());
    }

    [Theory]
    [InlineData(0, 8080, "local", 32, "--nodes")]
    [InlineData(33, 8080, "local", 32, "--nodes")]
    [InlineData(2, 65535, "local", 32, "--base-port")]
    [InlineData(1, 0, "local", 32, "--base-port")]
    [InlineData(1, 8080, "West", 32, "--region")]
    [InlineData(1, 8080, "", 32, "--region")]
    [InlineData(1, 8080, "local", 0, "--partitions")]
    public void Validate_WhenASettingIsOutOfRange_NamesTheOption(int nodes, int basePort, string region, int partitions, string option)
    {
        var problems = (Valid with { Nodes = nodes, BasePort = basePort, Region = region, Partitions = partitions }).Validate();

        Assert.Contains(problems, p => p.StartsWith(option, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public void Validate_WhenFrontEndsAreOutOfRange_NamesTheOption(int frontEnds)
    {
        var problems = (Valid with { FrontEnds = frontEnds }).Validate();

        Assert.Contains(problems, p => p.StartsWith("--frontends", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_WhenFrontEndPortsWouldPassThePortRange_NamesTheBasePort()
    {
        var fits = Valid with { Nodes = 2, FrontEnds = 2, BasePort = 65532 };
        var overflows = fits with { BasePort = 65533 };

        Assert.Empty(fits.Validate());
        Assert.Contains(overflows.Validate(), p => p.StartsWith("--base-port", StringComparison.Ordinal));
    }
}
