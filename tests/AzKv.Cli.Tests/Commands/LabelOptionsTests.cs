using AzKv.Cli.Commands;

namespace AzKv.Cli.Tests.Commands;

public sealed class LabelOptionsTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("*", "*")]
    [InlineData("dev", "dev")]
    [InlineData("\\0", "\0")]
    [InlineData("\\0,dev,prod", "\0,dev,prod")]
    public void ToFilter_WhenTyped_ReturnsTheClientsFilter(string? typed, string? expected) => Assert.Equal(expected, LabelOptions.ToFilter(typed));

    [Fact]
    public void Display_WhenLabelled_NamesTheLabel()
    {
        Assert.Equal("app/k (label dev)", LabelOptions.Display("app/k", "dev"));
        Assert.Equal("app/k [dev]", LabelOptions.Display("app/k", "dev", quoted: false));
        Assert.Equal("app/k", LabelOptions.Display("app/k", null));
    }
}
