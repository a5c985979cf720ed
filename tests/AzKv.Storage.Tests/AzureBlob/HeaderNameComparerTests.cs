using AzKv.Storage.AzureBlob.Authentication;

namespace AzKv.Storage.Tests.AzureBlob;

public sealed class HeaderNameComparerTests
{
    [Theory]
    [InlineData("x-ms-meta-v_1", "x-ms-meta-v1")]
    [InlineData("x-ms-meta-i_", "x-ms-meta-i0")]
    [InlineData("x-ms-meta-a", "x-ms-meta-a_b")]
    [InlineData("x-ms-meta-9", "x-ms-meta-a")]
    [InlineData("x-ms-blob-condition-appendpos", "x-ms-blob-content-type")]
    [InlineData("x-ms-lease-action", "x-ms-lease-break-period")]
    [InlineData("x-ms-date", "x-ms-version")]
    public void Compare_WhenNamesDiffer_OrdersPunctuationBeforeDigitsBeforeLetters(string first, string second)
    {
        Assert.True(HeaderNameComparer.Instance.Compare(first, second) < 0);
        Assert.True(HeaderNameComparer.Instance.Compare(second, first) > 0);
    }

    [Fact]
    public void Compare_WhenNamesEqual_ReturnsZero()
    {
        Assert.Equal(0, HeaderNameComparer.Instance.Compare("x-ms-meta-a_1", "x-ms-meta-a_1"));
    }
}
