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
}
