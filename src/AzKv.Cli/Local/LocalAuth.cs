using AzKv.Server.Security;

namespace AzKv.Cli.Local;

/// <summary>
/// The local token issuer of <c>azkv up</c> (docs/security.md): one signing key for every node of
/// every region, in <c>&lt;data&gt;/auth/signing.key</c> (kept across runs with <c>--data</c>), an
/// admin token in <c>auth/admin.token</c>. <see cref="LocalDescriptors"/> tells the tools where they are.
/// </summary>
internal sealed class LocalAuth
{
    /// <summary>How long the admin token of one run is valid.</summary>
    public static readonly TimeSpan AdminTokenLifetime = TimeSpan.FromDays(7);

    private LocalAuth(string keyFile, string tokenFile, string adminToken)
    {
        KeyFile = keyFile;
        TokenFile = tokenFile;
        AdminToken = adminToken;
    }

    /// <summary>The signing key's file.</summary>
    public string KeyFile { get; }

    /// <summary>The admin token's file.</summary>
    public string TokenFile { get; }

    /// <summary>The admin token itself (what <see cref="TokenFile"/> holds), for the console link.</summary>
    public string AdminToken { get; }

    /// <summary>Creates the key in <paramref name="directory"/> unless it is there, and a new admin token.</summary>
    public static LocalAuth Create(string directory, TimeProvider time)
    {
        Directory.CreateDirectory(directory);
        var keyFile = Path.Combine(directory, "signing.key");
        var key = LocalIssuer.CreateOrLoadKey(keyFile);
        var tokenFile = Path.Combine(directory, "admin.token");
        var token = LocalIssuer.CreateToken(key, "local-admin", AuthClaims.AdminRole, [], AdminTokenLifetime, time);
        WritePrivate(tokenFile, token + "\n");
        return new LocalAuth(keyFile, tokenFile, token);
    }

    internal static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options);
        writer.Write(text);
    }
}
