using System.Text.Json;
using AzKv.Client.Auth;
using AzKv.Server.Security;

namespace AzKv.Cli.Local;

/// <summary>
/// The local token issuer of <c>azkv up</c> (docs/security.md): one signing key for every node of
/// every region, in <c>&lt;data&gt;/auth/signing.key</c> (kept across runs with <c>--data</c>), an
/// admin token in <c>auth/admin.token</c>, and one description per node address in
/// <c>~/.azkv/local/</c> so the CLI, the client and the configuration provider find the token by
/// themselves. The descriptions are removed when <c>up</c> stops.
/// </summary>
internal sealed class LocalAuth
{
    /// <summary>How long the admin token of one run is valid.</summary>
    public static readonly TimeSpan AdminTokenLifetime = TimeSpan.FromDays(7);

    private readonly List<string> _descriptors = [];

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

    /// <summary>Records this run's token and key for each of <paramref name="urls"/> (replacing what an earlier run left).</summary>
    public void Describe(IEnumerable<Uri> urls)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string?> { ["tokenFile"] = TokenFile, ["signingKeyFile"] = KeyFile });
        foreach (var url in urls)
        {
            var path = AmbientToken.DescriptorPath(url);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WritePrivate(path, json);
            _descriptors.Add(path);
        }
    }

    /// <summary>Removes the descriptions of <paramref name="urls"/> (a run without auth leaves none behind from an earlier one).</summary>
    public static void Forget(IEnumerable<Uri> urls)
    {
        foreach (var url in urls)
        {
            TryDelete(AmbientToken.DescriptorPath(url));
        }
    }

    /// <summary>Removes the descriptions this run wrote.</summary>
    public void Withdraw()
    {
        foreach (var path in _descriptors)
        {
            TryDelete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A description left behind names files of a stopped run: the next up replaces it.
        }
    }

    private static void WritePrivate(string path, string text)
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
