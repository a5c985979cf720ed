using AzKv.Server.Hosting;

namespace AzKv.Server.Tests.Security;

/// <summary>Bad auth settings are startup errors that name the setting.</summary>
public sealed class AuthSettingsTests
{
    private static List<string> Validate(AuthSettings settings)
    {
        var errors = new List<string>();
        settings.Validate(errors);
        return errors;
    }

    [Fact]
    public void Validate_WhenModeIsUnknown_NamesTheModeSetting() =>
        Assert.Contains(Validate(new AuthSettings { Mode = "Basic" }), e => e.StartsWith("AzKv__Auth__Mode 'Basic'", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenLocalWithoutKeyFile_NamesSigningKeyFile() =>
        Assert.Contains(Validate(new AuthSettings { Mode = AuthSettings.Local }), e => e.StartsWith("AzKv__Auth__SigningKeyFile is missing", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenLocalKeyFileDoesNotExist_NamesSigningKeyFile() =>
        Assert.Contains(Validate(new AuthSettings { Mode = AuthSettings.Local, SigningKeyFile = "/nonexistent/azkv.key" }), e => e.StartsWith("AzKv__Auth__SigningKeyFile '/nonexistent/azkv.key' does not exist", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenEntraIdWithoutTenantAndAudience_NamesBoth()
    {
        var errors = Validate(new AuthSettings { Mode = AuthSettings.EntraId });

        Assert.Contains(errors, e => e.StartsWith("AzKv__Auth__TenantId", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("AzKv__Auth__Audience is missing", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_WhenEntraIdHasALocalKey_RefusesTheLocalIssuer() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", SigningKeyFile = "/tmp/k" }),
            e => e.StartsWith("AzKv__Auth__SigningKeyFile is set in EntraId mode", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenAllowedClientIdsAreNotGuids_NamesTheSetting() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", AllowedClientIds = "my-app" }),
            e => e.StartsWith("AzKv__Auth__AllowedClientIds", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenInstanceIsPlainHttpToARemoteHost_NamesInstance() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", Instance = "http://login.example.com/" }),
            e => e.StartsWith("AzKv__Auth__Instance", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenEntraIdIsComplete_HasNoErrors() =>
        Assert.Empty(Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", AllowedClientIds = Guid.NewGuid().ToString() }));

    [Fact]
    public void Validate_WhenConsoleClientIdIsNotAGuid_NamesConsoleClientId() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", ConsoleClientId = "console" }),
            e => e.StartsWith("AzKv__Auth__ConsoleClientId 'console' is invalid", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenConsoleClientIsNotAnAllowedClient_NamesBothSettings() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", AllowedClientIds = Guid.NewGuid().ToString(), ConsoleClientId = Guid.NewGuid().ToString() }),
            e => e.StartsWith("AzKv__Auth__ConsoleClientId", StringComparison.Ordinal) && e.Contains("AzKv__Auth__AllowedClientIds", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenConsoleScopeIsSetWithoutTheConsoleClient_NamesConsoleScope() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", ConsoleScope = "api://azkv/.default" }),
            e => e.StartsWith("AzKv__Auth__ConsoleScope is set without AzKv__Auth__ConsoleClientId", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenConsoleScopeHoldsTwoScopes_NamesConsoleScope() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", ConsoleClientId = Guid.NewGuid().ToString(), ConsoleScope = "openid api://azkv/.default" }),
            e => e.StartsWith("AzKv__Auth__ConsoleScope 'openid api://azkv/.default' is invalid", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenConsoleClientIdIsSetInLocalMode_NamesTheSetting() =>
        Assert.Contains(
            Validate(new AuthSettings { Mode = AuthSettings.None, ConsoleClientId = Guid.NewGuid().ToString() }),
            e => e.StartsWith("AzKv__Auth__ConsoleClientId / AzKv__Auth__ConsoleScope are set in None mode", StringComparison.Ordinal));

    [Fact]
    public void Validate_WhenTheConsoleSignInIsComplete_HasNoErrorsAndDefaultsTheScopeToTheAudience()
    {
        var client = Guid.NewGuid().ToString();
        var settings = new AuthSettings { Mode = AuthSettings.EntraId, TenantId = Guid.NewGuid().ToString(), Audience = "api://azkv", AllowedClientIds = client, ConsoleClientId = client };

        Assert.Empty(Validate(settings));
        Assert.Equal("api://azkv/.default", settings.EffectiveConsoleScope);
    }

    [Fact]
    public void Validate_WhenRateIsNegative_NamesRequestsPerSecond() =>
        Assert.Contains(Validate(new AuthSettings { RequestsPerSecond = -1 }), e => e.StartsWith("AzKv__Auth__RequestsPerSecond", StringComparison.Ordinal));
}
