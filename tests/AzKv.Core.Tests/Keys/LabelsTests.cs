using AzKv.Keys;

namespace AzKv.Core.Tests.Keys;

public sealed class LabelsTests
{
    [Theory]
    [InlineData("dev")]
    [InlineData("prod/eu")]
    [InlineData("été 😀")]
    public void Validate_WhenLabelValid_ReturnsNull(string label) => Assert.Null(Labels.Validate(label));

    [Theory]
    [InlineData("")]
    [InlineData("a*")]
    [InlineData("a,b")]
    [InlineData("a\u0000b")]
    [InlineData("a\tb")]
    public void Validate_WhenLabelInvalid_ReturnsMessage(string label) => Assert.NotNull(Labels.Validate(label));

    [Fact]
    public void Validate_WhenLabelOver256Bytes_ReturnsMessage()
    {
        Assert.Null(Labels.Validate(new string('l', 256)));
        Assert.Contains("256", Labels.Validate(new string('l', 257)), StringComparison.Ordinal);
        Assert.NotNull(Labels.Validate(new string('é', 129)));
    }

    [Fact]
    public void EntryKey_WhenLabelled_SplitsBackIntoKeyAndLabel()
    {
        var entry = Labels.EntryKey("app/color", "dev");

        Assert.Equal("app/color", Labels.KeyOf(entry));
        Assert.Equal("dev", Labels.LabelOf(entry));
        Assert.Null(Labels.ValidateEntryKey(entry));
        Assert.StartsWith("app/", entry, StringComparison.Ordinal);
    }

    [Fact]
    public void EntryKey_WhenNullLabel_IsTheKeyItself()
    {
        Assert.Equal("app/color", Labels.EntryKey("app/color", null));
        Assert.Null(Labels.LabelOf("app/color"));
    }

    [Fact]
    public void EntryKey_WhenSorted_KeepsEveryLabelOfAKeyTogetherBeforeLongerKeys()
    {
        string[] entries = [Labels.EntryKey("a/k/x", null), Labels.EntryKey("a/k", "prod"), Labels.EntryKey("a/k", null), Labels.EntryKey("a/k", "dev")];

        Array.Sort(entries, StringComparer.Ordinal);

        Assert.Equal(["a/k", "a/k\0dev", "a/k\0prod", "a/k/x"], entries);
    }

    [Fact]
    public void ValidateEntryKey_WhenLabelPartInvalid_ReturnsMessage()
    {
        Assert.NotNull(Labels.ValidateEntryKey("a\0"));
        Assert.NotNull(Labels.ValidateEntryKey("a\0b\0c"));
        Assert.NotNull(Labels.ValidateEntryKey("\0dev"));
        Assert.False(Labels.IsValidEntryKeyUtf8("a\0"u8));
        Assert.True(Labels.IsValidEntryKeyUtf8("a\0dev"u8));
    }
}
