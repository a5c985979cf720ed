using System.Security.Claims;
using AzKv.Server.Security;
using AzKv.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AzKv.Server.Tests.Security;

/// <summary>The local issuer's tokens and what a node in local mode makes of them.</summary>
public sealed class LocalIssuerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "azkv-issuer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static async Task<TokenValidationResult> ValidateAsync(string token, byte[] key) =>
        await new JsonWebTokenHandler().ValidateTokenAsync(token, LocalIssuer.ValidationParameters(key));

    [Fact]
    public void CreateOrLoadKey_WhenCalledTwice_KeepsTheFirstKeyOwnerOnly()
    {
        var path = Path.Combine(_directory, "auth", "signing.key");

        var first = LocalIssuer.CreateOrLoadKey(path);
        var second = LocalIssuer.CreateOrLoadKey(path);

        Assert.Equal(32, first.Length);
        Assert.Equal(first, second);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void LoadKey_WhenFileIsNotAKey_Throws()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "bad.key");
        File.WriteAllText(path, "not base64!");

        Assert.Throws<InvalidDataException>(() => LocalIssuer.LoadKey(path));
    }

    [Fact]
    public async Task CreateToken_WhenValidated_CarriesSubjectRoleAndPrefixes()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var token = LocalIssuer.CreateToken(key, "ci-job", AuthClaims.WriterRole, ["app/", "flags/"], TimeSpan.FromHours(1), TimeProvider.System);

        var result = await ValidateAsync(token, key);

        Assert.True(result.IsValid, result.Exception?.Message);
        var principal = AccessControl.FromClaims(new ClaimsPrincipal(result.ClaimsIdentity), local: true);
        Assert.Equal("ci-job", principal.Subject);
        var grant = Assert.Single(principal.Grants);
        Assert.Equal(AccessRole.Writer, grant.Role);
        Assert.Equal(["app/", "flags/"], grant.Prefixes);
        Assert.False(principal.IsNode);
    }

    [Fact]
    public async Task FromClaims_WhenNotLocal_IgnoresThePrefixClaimSoEntraRolesAreUnscoped()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var token = LocalIssuer.CreateToken(key, "x", AuthClaims.ReaderRole, ["app/"], TimeSpan.FromHours(1), TimeProvider.System);
        var result = await ValidateAsync(token, key);

        var principal = AccessControl.FromClaims(new ClaimsPrincipal(result.ClaimsIdentity), local: false);

        Assert.True(Assert.Single(principal.Grants).IsUnscoped);
    }

    [Fact]
    public async Task FromClaims_WhenNodeRole_IsANodeWithoutKeyGrants()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var token = LocalIssuer.CreateToken(key, "node:n1", AuthClaims.NodeRole, [], TimeSpan.FromHours(1), TimeProvider.System);

        var principal = AccessControl.FromClaims(new ClaimsPrincipal((await ValidateAsync(token, key)).ClaimsIdentity), local: true);

        Assert.True(principal.IsNode);
        Assert.Empty(principal.Grants);
    }

    [Fact]
    public async Task Validate_WhenExpiredBeyondTheSkew_Fails()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(2));
        var token = LocalIssuer.CreateToken(key, "x", AuthClaims.AdminRole, [], TimeSpan.FromHours(1), clock);

        var result = await ValidateAsync(token, key);

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(result.Exception);
    }

    [Fact]
    public async Task Validate_WhenNotYetValidBeyondTheSkew_Fails()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5));
        var token = LocalIssuer.CreateToken(key, "x", AuthClaims.AdminRole, [], TimeSpan.FromHours(1), clock);

        var result = await ValidateAsync(token, key);

        Assert.False(result.IsValid);
        Assert.IsType<SecurityTokenNotYetValidException>(result.Exception);
    }

    [Fact]
    public async Task Validate_WhenSignedWithAnotherKey_Fails()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var forger = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "forger"));
        var token = LocalIssuer.CreateToken(forger, "x", AuthClaims.AdminRole, [], TimeSpan.FromHours(1), TimeProvider.System);

        var result = await ValidateAsync(token, key);

        Assert.False(result.IsValid);
        Assert.IsAssignableFrom<SecurityTokenInvalidSignatureException>(result.Exception);
    }

    [Fact]
    public async Task Validate_WhenAudienceOrIssuerIsWrong_Fails()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var handler = new JsonWebTokenHandler();
        string Token(string issuer, string audience) => handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Expires = DateTime.UtcNow.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = "x", ["roles"] = new[] { AuthClaims.AdminRole } },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });

        var wrongAudience = await ValidateAsync(Token(LocalIssuer.Issuer, "someone-else"), key);
        var wrongIssuer = await ValidateAsync(Token("https://evil.example/", LocalIssuer.Audience), key);
        var right = await ValidateAsync(Token(LocalIssuer.Issuer, LocalIssuer.Audience), key);

        Assert.IsType<SecurityTokenInvalidAudienceException>(wrongAudience.Exception);
        Assert.IsType<SecurityTokenInvalidIssuerException>(wrongIssuer.Exception);
        Assert.True(right.IsValid);
    }

    [Fact]
    public async Task Validate_WhenUnsigned_Fails()
    {
        var key = LocalIssuer.CreateOrLoadKey(Path.Combine(_directory, "k"));
        var unsigned = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = LocalIssuer.Issuer,
            Audience = LocalIssuer.Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = "x", ["roles"] = new[] { AuthClaims.AdminRole } },
        });

        Assert.False((await ValidateAsync(unsigned, key)).IsValid);
    }
}
