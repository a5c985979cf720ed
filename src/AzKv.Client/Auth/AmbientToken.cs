using System.Text.Json;

namespace AzKv.Client.Auth;

/// <summary>
/// The token a client finds by itself when none is configured (docs/security.md, "Tokens the tools
/// find"): <c>AZKV_TOKEN</c> (the token), else <c>AZKV_TOKEN_FILE</c> (a file holding it), else the
/// file of a local <c>azkv up</c> serving one of the endpoints, named in
/// <c>~/.azkv/local/&lt;host&gt;-&lt;port&gt;.json</c> (<c>AZKV_HOME</c> replaces <c>~/.azkv</c>).
/// Never sent over plain http to a host that is not loopback.
/// </summary>
internal static class AmbientToken
{
    /// <summary>The token itself.</summary>
    public const string TokenVariable = "AZKV_TOKEN";

    /// <summary>A file holding the token (re-read once a minute, so a new token is picked up).</summary>
    public const string TokenFileVariable = "AZKV_TOKEN_FILE";

    /// <summary>A PEM file of CA certificates to trust for https (docs/security.md, "HTTPS").</summary>
    public const string CaFileVariable = "AZKV_CA_FILE";

    /// <summary>Replaces <c>~/.azkv</c>.</summary>
    public const string HomeVariable = "AZKV_HOME";

    private static readonly TimeSpan Reread = TimeSpan.FromMinutes(1);

    /// <summary>The folder where <c>azkv up</c> describes its nodes: one JSON file per node address.</summary>
    public static string LocalDirectory(Func<string, string?>? environment = null) =>
        Path.Combine(
            (environment ?? Environment.GetEnvironmentVariable)(HomeVariable) is { Length: > 0 } home ? home : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".azkv"),
            "local");

    /// <summary>The description of the local node at <paramref name="endpoint"/>.</summary>
    public static string DescriptorPath(Uri endpoint, Func<string, string?>? environment = null) =>
        Path.Combine(LocalDirectory(environment), FormattableString.Invariant($"{endpoint.Host}-{endpoint.Port}.json"));

    /// <summary>Reads a local node's description; null when there is none (or it cannot be read).</summary>
    public static LocalNodeDescriptor? ReadDescriptor(Uri endpoint, Func<string, string?>? environment = null)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(DescriptorPath(endpoint, environment)));
            var root = document.RootElement;
            return new LocalNodeDescriptor(Text(root, "tokenFile"), Text(root, "signingKeyFile"), Text(root, "caFile"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return null;
        }

        static string? Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>A token provider over the first source found, or null when there is none, or when <paramref name="endpoints"/> include plain http to another host.</summary>
    /// <param name="endpoints">The client's endpoints.</param>
    /// <param name="allowOverHttp">Send it over plain http to other hosts too.</param>
    /// <param name="time">The clock.</param>
    /// <param name="environment">Reads an environment variable (tests replace it).</param>
    public static Func<CancellationToken, ValueTask<AzKvAccessToken>>? Find(IReadOnlyList<Uri> endpoints, bool allowOverHttp, TimeProvider time, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!allowOverHttp && endpoints.Any(e => e.Scheme == Uri.UriSchemeHttp && !e.IsLoopback))
        {
            return null;
        }

        if (environment(TokenVariable) is { Length: > 0 } token)
        {
            var fixedToken = token.Trim();
            return _ => ValueTask.FromResult(new AzKvAccessToken(fixedToken, time.GetUtcNow() + (2 * Reread), time.GetUtcNow() + Reread));
        }

        var file = environment(TokenFileVariable) is { Length: > 0 } named
            ? named
            : endpoints.Where(e => e.IsLoopback).Select(e => ReadDescriptor(e, environment)?.TokenFile).FirstOrDefault(f => f is not null);
        return file is null ? null : _ => ReadFileAsync(file, time);
    }

    /// <summary>
    /// The CA file a client trusts when none is configured: <c>AZKV_CA_FILE</c>, else the CA of a local
    /// <c>azkv up --https</c> serving one of the https loopback <paramref name="endpoints"/>; null: the machine's store.
    /// </summary>
    public static string? FindCaFile(IReadOnlyList<Uri> endpoints, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return environment(CaFileVariable) is { Length: > 0 } named
            ? named
            : endpoints.Where(e => e.IsLoopback && e.Scheme == Uri.UriSchemeHttps).Select(e => ReadDescriptor(e, environment)?.CaFile).FirstOrDefault(f => f is not null);
    }

    /// <summary>The ambient token right now (for tools that set one header for a whole run, like the benchmark); null when there is none.</summary>
    public static string? ReadNow(IReadOnlyList<Uri> endpoints)
    {
        if (endpoints.Any(e => e.Scheme == Uri.UriSchemeHttp && !e.IsLoopback))
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } token)
        {
            return token.Trim();
        }

        var file = Environment.GetEnvironmentVariable(TokenFileVariable) is { Length: > 0 } named
            ? named
            : endpoints.Where(e => e.IsLoopback).Select(e => ReadDescriptor(e)?.TokenFile).FirstOrDefault(f => f is not null);
        try
        {
            return file is null ? null : File.ReadAllText(file).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async ValueTask<AzKvAccessToken> ReadFileAsync(string file, TimeProvider time)
    {
        string text;
        try
        {
            text = (await File.ReadAllTextAsync(file).ConfigureAwait(false)).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AzKvException($"The AzKv token file '{file}' cannot be read: {ex.Message}", ex);
        }

        var now = time.GetUtcNow();
        return new AzKvAccessToken(text, now + (2 * Reread), now + Reread);
    }
}

/// <summary>What <c>azkv up</c> records about one of its nodes.</summary>
/// <param name="TokenFile">The admin token's file, or null when auth is off.</param>
/// <param name="SigningKeyFile">The local issuer's key file, or null when auth is off.</param>
/// <param name="CaFile">The certificate to trust for https, or null.</param>
internal sealed record LocalNodeDescriptor(string? TokenFile, string? SigningKeyFile, string? CaFile);
