using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AzKv.Server.Security;

/// <summary>
/// The token issuer of a local deployment (<c>azkv up</c>): one HMAC-SHA256 key in a file of the
/// data directory signs the tokens of every node and every region. Nodes accept its tokens only in
/// <c>AzKv__Auth__Mode=Local</c>, which names the key file; never in Entra ID mode.
/// </summary>
public static class LocalIssuer
{
    /// <summary>The <c>iss</c> of local tokens.</summary>
    public const string Issuer = "azkv-local";

    /// <summary>The <c>aud</c> of local tokens.</summary>
    public const string Audience = "azkv";

    /// <summary>The claim listing the key prefixes a local token's roles are limited to (absent: every key).</summary>
    public const string PrefixesClaim = "azkv_prefixes";

    private const int KeyBytes = 32;

    /// <summary>Writes a new random key to <paramref name="path"/> (owner-only on Unix) unless a key is there already; returns the key.</summary>
    public static byte[] CreateOrLoadKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            return LoadKey(path);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options))
        {
            writer.WriteLine(Convert.ToBase64String(key));
        }

        return key;
    }

    /// <summary>Reads the key at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file does not hold a key.</exception>
    public static byte[] LoadKey(string path)
    {
        var text = File.ReadAllText(path).Trim();
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"The local signing key file '{path}' does not hold a base64 key.");
        }

        return key.Length >= KeyBytes ? key : throw new InvalidDataException($"The local signing key in '{path}' is shorter than {KeyBytes} bytes.");
    }

    /// <summary>Signs a token for <paramref name="subject"/> holding <paramref name="role"/>, limited to <paramref name="prefixes"/> when any.</summary>
    public static string CreateToken(byte[] key, string subject, string role, IReadOnlyList<string> prefixes, TimeSpan lifetime, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentNullException.ThrowIfNull(prefixes);
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["sub"] = subject,
            [AuthClaims.Roles] = new[] { role },
        };
        if (prefixes.Count > 0)
        {
            claims[PrefixesClaim] = prefixes.ToArray();
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(SigningKey(key), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>What a node in local mode checks: this issuer, this audience, this key, the lifetime with 30 s of skew.</summary>
    public static TokenValidationParameters ValidationParameters(byte[] key) => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKey = SigningKey(key),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = AuthClaims.ClockSkew,
        NameClaimType = "sub",
        RoleClaimType = AuthClaims.Roles,
    };

    private static SymmetricSecurityKey SigningKey(byte[] key) => new(key) { KeyId = Issuer };
}

/// <summary>Claim names and role values shared by local and Entra ID tokens (docs/security.md).</summary>
public static class AuthClaims
{
    /// <summary>The roles claim (Entra app roles, and local tokens alike).</summary>
    public const string Roles = "roles";

    /// <summary>App role value of a reader.</summary>
    public const string ReaderRole = "AzKv.Reader";

    /// <summary>App role value of a writer.</summary>
    public const string WriterRole = "AzKv.Writer";

    /// <summary>App role value of an admin.</summary>
    public const string AdminRole = "AzKv.Admin";

    /// <summary>App role value of a node (managed identity in Azure, the node's own token locally): internal endpoints only.</summary>
    public const string NodeRole = "AzKv.Node";

    /// <summary>Clock skew allowed on <c>exp</c> and <c>nbf</c>.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>The app role value of <paramref name="role"/>.</summary>
    public static string RoleValue(AccessRole role) => role switch
    {
        AccessRole.Reader => ReaderRole,
        AccessRole.Writer => WriterRole,
        AccessRole.Admin => AdminRole,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>The access role of an app role value, or null (the node role, or an unknown one).</summary>
    public static AccessRole? FromRoleValue(string value) => value switch
    {
        ReaderRole => AccessRole.Reader,
        WriterRole => AccessRole.Writer,
        AdminRole => AccessRole.Admin,
        _ => null,
    };
}
