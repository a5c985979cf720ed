using System.CommandLine;
using System.Globalization;
using AzKv.Cli.Client;
using AzKv.Client.Auth;
using AzKv.Server.Security;

namespace AzKv.Cli.Commands;

/// <summary>
/// <c>azkv token create</c>: a token of the local issuer (docs/security.md), for tests and scripts.
/// Prints the token and nothing else on stdout.
/// </summary>
internal static class TokenCommand
{
    /// <summary>Names the signing key file when neither <c>--key-file</c> nor a local <c>up</c> at <c>--url</c> does.</summary>
    public const string KeyFileVariable = "AZKV_SIGNING_KEY_FILE";

    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "reader, writer or admin.", Required = true };
        role.AcceptOnlyFromAmong("reader", "writer", "admin");
        var prefixes = new Option<string[]>("--prefix") { Description = "Limit the role to keys under this prefix (repeatable). Default: every key.", AllowMultipleArgumentsPerToken = false };
        var ttl = new Option<string>("--ttl") { Description = "Lifetime: 90s, 30m, 1h, 7d.", DefaultValueFactory = _ => "1h" };
        var subject = new Option<string?>("--subject") { Description = "The token's subject (who it is for). Default: cli-<user name>." };
        var keyFile = new Option<string?>("--key-file") { Description = $"The local issuer's key. Default: ${KeyFileVariable}, else the key of the local 'azkv up' at --url." };

        var create = new Command("create", "Print a token signed by the local issuer of 'azkv up' (nodes accept it only in local mode).")
        {
            role, prefixes, ttl, subject, keyFile,
        };
        create.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            if (!TryParseLifetime(parseResult.GetValue(ttl)!, out var lifetime))
            {
                await error.WriteLineAsync("azkv token create: --ttl must be a positive number followed by s, m, h or d (e.g. 1h), at most 365d.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var prefixList = parseResult.GetValue(prefixes) ?? [];
            if (prefixList.Any(p => p.Length == 0 || p.Any(char.IsControl)))
            {
                await error.WriteLineAsync("azkv token create: --prefix must be non-empty text without control characters.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            var path = parseResult.GetValue(keyFile)
                ?? (Environment.GetEnvironmentVariable(KeyFileVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null)
                ?? FindLocalKey(parseResult.GetValue(ClientOptions.Url)!);
            if (path is null)
            {
                await error.WriteLineAsync($"azkv token create: no signing key: give --key-file, set {KeyFileVariable}, or run 'azkv up' (with auth) at --url.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            byte[] key;
            try
            {
                key = LocalIssuer.LoadKey(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                await error.WriteLineAsync("azkv token create: cannot read the signing key: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            AccessGrant.TryParseRole(parseResult.GetValue(role), out var accessRole);
            var name = parseResult.GetValue(subject) ?? "cli-" + Environment.UserName;
            var token = LocalIssuer.CreateToken(key, name, AuthClaims.RoleValue(accessRole), prefixList, lifetime, TimeProvider.System);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(token).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

        return new Command("token", "Tokens of the local issuer (azkv up).") { create };
    }

    /// <summary>Parses <c>90s</c>, <c>30m</c>, <c>1h</c>, <c>7d</c> (positive, at most a year).</summary>
    internal static bool TryParseLifetime(string text, out TimeSpan lifetime)
    {
        lifetime = TimeSpan.Zero;
        if (text.Length < 2 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count <= 0)
        {
            return false;
        }

        lifetime = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(count),
            'm' => TimeSpan.FromMinutes(count),
            'h' => TimeSpan.FromHours(count),
            'd' => TimeSpan.FromDays(count),
            _ => TimeSpan.Zero,
        };
        return lifetime > TimeSpan.Zero && lifetime <= TimeSpan.FromDays(365);
    }

    private static string? FindLocalKey(string urls)
    {
        try
        {
            return ClientOptions.ParseEndpoints(urls).Where(u => u.IsLoopback).Select(u => AmbientToken.ReadDescriptor(u)?.SigningKeyFile).FirstOrDefault(k => k is not null);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
