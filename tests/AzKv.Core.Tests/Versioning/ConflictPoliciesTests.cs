using AzKv.Versioning;

namespace AzKv.Core.Tests.Versioning;

public sealed class ConflictPoliciesTests
{
    [Fact]
    public void For_WhenNoRuleMatches_IsLww()
    {
        Assert.True(ConflictPolicies.TryParse("flags/=siblings", out var policies, out _));

        Assert.Equal(ConflictPolicy.Lww, policies.For("config/a"));
        Assert.Equal(ConflictPolicy.Lww, ConflictPolicies.Default.For("anything"));
    }

    [Fact]
    public void For_WhenPrefixesNest_LongestMatchWins()
    {
        Assert.True(ConflictPolicies.TryParse("flags/=siblings; flags/critical/=lww", out var policies, out _));

        Assert.Equal(ConflictPolicy.Siblings, policies.For("flags/a"));
        Assert.Equal(ConflictPolicy.Lww, policies.For("flags/critical/a"));
    }

    [Fact]
    public void TryParse_WhenEmptyPrefix_AppliesToEveryKey()
    {
        Assert.True(ConflictPolicies.TryParse("=siblings", out var policies, out _));

        Assert.Equal(ConflictPolicy.Siblings, policies.For("x"));
    }

    [Theory]
    [InlineData("flags/")]
    [InlineData("flags/=maybe")]
    [InlineData("a=lww;a=siblings")]
    public void TryParse_WhenMalformed_FailsWithAReason(string text)
    {
        Assert.False(ConflictPolicies.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void ToString_WhenParsedBack_IsEqual()
    {
        Assert.True(ConflictPolicies.TryParse("b/=lww;a/=SIBLINGS", out var policies, out _));

        Assert.Equal("a/=siblings;b/=lww", policies.ToString());
        Assert.True(ConflictPolicies.TryParse(policies.ToString(), out var again, out _));
        Assert.Equal(policies, again);
    }
}
