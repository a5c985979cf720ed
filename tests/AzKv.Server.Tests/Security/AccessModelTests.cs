using AzKv.Server.Api;
using AzKv.Server.Security;

namespace AzKv.Server.Tests.Security;

/// <summary>The pure rules: grants by key and prefix, the role order, and which rule guards which endpoint.</summary>
public sealed class AccessModelTests
{
    private static AccessPrincipal Principal(params AccessGrant[] grants) => new(true, "someone", grants, IsNode: false);

    [Theory]
    [InlineData("app/color", true)]
    [InlineData("app/", true)]
    [InlineData("apple", false)]
    [InlineData("other/app/x", false)]
    public void CoversKey_WhenScopedToAPrefix_AllowsOnlyKeysUnderIt(string key, bool expected) =>
        Assert.Equal(expected, new AccessGrant(AccessRole.Reader, ["app/"]).CoversKey(key));

    [Theory]
    [InlineData("app/", true)]
    [InlineData("app/sub/", true)]
    [InlineData("", false)]
    [InlineData("ap", false)]
    public void CoversPrefix_WhenScoped_NeedsTheWholeRangeInsideTheGrant(string prefix, bool expected) =>
        Assert.Equal(expected, new AccessGrant(AccessRole.Reader, ["app/"]).CoversPrefix(prefix));

    [Fact]
    public void CanAccessKey_WhenRoleIsHigher_IncludesTheLowerRoles()
    {
        var admin = Principal(new AccessGrant(AccessRole.Admin, []));
        var writer = Principal(new AccessGrant(AccessRole.Writer, ["app/"]));
        var reader = Principal(new AccessGrant(AccessRole.Reader, []));

        Assert.True(admin.CanAccessKey(AccessRole.Writer, "x"));
        Assert.True(writer.CanAccessKey(AccessRole.Reader, "app/x"));
        Assert.False(writer.CanAccessKey(AccessRole.Reader, "other"));
        Assert.False(reader.CanAccessKey(AccessRole.Writer, "x"));
        Assert.False(writer.HasUnscopedRole(AccessRole.Admin));
        Assert.True(admin.HasUnscopedRole(AccessRole.Admin));
    }

    [Fact]
    public void CanAccessKey_WhenGrantsAreCombined_UsesAnyGrantThatCovers()
    {
        var principal = Principal(new AccessGrant(AccessRole.Reader, []), new AccessGrant(AccessRole.Writer, ["flags/"]));

        Assert.True(principal.CanAccessKey(AccessRole.Writer, "flags/beta"));
        Assert.False(principal.CanAccessKey(AccessRole.Writer, "app/beta"));
        Assert.True(principal.CanAccessPrefix(AccessRole.Reader, string.Empty));
    }

    [Fact]
    public void Open_WhenAuthIsOff_IsOneUnscopedAdminNotAuthenticated()
    {
        var open = AccessPrincipal.Open;

        Assert.False(open.Authenticated);
        var grant = Assert.Single(open.Grants);
        Assert.Equal(AccessRole.Admin, grant.Role);
        Assert.True(grant.IsUnscoped);
    }

    [Theory]
    [InlineData(ApiEndpointNames.Health, null, nameof(AccessFilter.Rule.Anonymous))]
    [InlineData(ApiEndpointNames.Ready, null, nameof(AccessFilter.Rule.Anonymous))]
    [InlineData(ApiEndpointNames.Metrics, null, nameof(AccessFilter.Rule.Metrics))]
    [InlineData(ApiEndpointNames.GetKey, null, nameof(AccessFilter.Rule.ReadKey))]
    [InlineData(ApiEndpointNames.PutKey, null, nameof(AccessFilter.Rule.WriteKey))]
    [InlineData(ApiEndpointNames.DeleteKey, null, nameof(AccessFilter.Rule.WriteKey))]
    [InlineData(ApiEndpointNames.ListKeys, null, nameof(AccessFilter.Rule.ReadPrefix))]
    [InlineData(ApiEndpointNames.Watch, null, nameof(AccessFilter.Rule.ReadPrefix))]
    [InlineData(ApiEndpointNames.Conflicts, null, nameof(AccessFilter.Rule.ReadPrefix))]
    [InlineData(ApiEndpointNames.Cluster, null, nameof(AccessFilter.Rule.ReadAny))]
    [InlineData(ApiEndpointNames.PauseReplication, null, nameof(AccessFilter.Rule.Admin))]
    [InlineData(ApiEndpointNames.ResumeReplication, null, nameof(AccessFilter.Rule.Admin))]
    [InlineData(ApiEndpointNames.VerifyReplication, null, nameof(AccessFilter.Rule.Admin))]
    [InlineData(null, "/v1/internal/antientropy/{partition:int}/tree", nameof(AccessFilter.Rule.Node))]
    [InlineData(null, "/v1/internal/antientropy/{partition:int}/leaves", nameof(AccessFilter.Rule.Node))]
    [InlineData(ApiEndpointNames.AuthMe, null, nameof(AccessFilter.Rule.Optional))]
    [InlineData(null, "/v1/internal/changes", nameof(AccessFilter.Rule.Node))]
    [InlineData(null, "/v1/internal/partitions/{partition:int}/keys", nameof(AccessFilter.Rule.Node))]
    [InlineData(null, "/v1/something-new", nameof(AccessFilter.Rule.Admin))]
    public void RuleFor_WhenGivenAnEndpoint_ReturnsItsRule(string? name, string? pattern, string expected) =>
        Assert.Equal(expected, AccessFilter.RuleFor(name, pattern).ToString());
}
