using AzKv.Cli.Commands;
using AzKv.Client;

namespace AzKv.Cli.Tests.Commands;

public sealed class ListCommandTests
{
    [Fact]
    public void FormatValue_WhenTheValueIsText_ShowsItWithControlCharactersEscaped()
    {
        var item = new KvItem { Value = "line 1\nline\t2"u8.ToArray() };

        Assert.Equal("line 1\\nline\\t2", ListCommand.FormatValue(item));
    }

    [Fact]
    public void FormatValue_WhenTheValueIsNotUtf8_ShowsBase64()
    {
        var item = new KvItem { Value = new byte[] { 0xFF, 0xFE, 0x00 } };

        Assert.Equal("base64://4A", ListCommand.FormatValue(item));
    }

    [Fact]
    public void FormatValue_WhenTheValueIsLong_ShortensIt()
    {
        var item = new KvItem { Value = new byte[100].Select(_ => (byte)'x').ToArray() };

        Assert.Equal(new string('x', 60) + "…", ListCommand.FormatValue(item));
    }

    [Fact]
    public void FormatValue_WhenValuesWereNotRequested_IsEmpty()
    {
        Assert.Equal(string.Empty, ListCommand.FormatValue(new KvItem()));
    }
}
