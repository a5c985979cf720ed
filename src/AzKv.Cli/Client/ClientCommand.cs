using System.CommandLine;
using AzKv.Cli.Platform;
using AzKv.Client;

namespace AzKv.Cli.Client;

/// <summary>Runs a client command: builds the client from --url, maps failures to a message and an exit code.</summary>
internal static class ClientCommand
{
    /// <summary>What a client command does; returns the exit code.</summary>
    public delegate Task<int> Body(AzKvClient client, CommandContext context, CancellationToken cancellationToken);

    /// <summary>Sets <paramref name="command"/>'s action to run <paramref name="body"/> with error handling.</summary>
    public static void SetClientAction(this Command command, Body body, bool forWatch = false) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, body, forWatch, cancellationToken));

    private static async Task<int> RunAsync(ParseResult parseResult, Body body, bool forWatch, CancellationToken cancellationToken)
    {
        var error = parseResult.InvocationConfiguration.Error;
        IReadOnlyList<Uri> endpoints;
        try
        {
            endpoints = ClientOptions.ParseEndpoints(parseResult.GetValue(ClientOptions.Url) ?? ClientOptions.DefaultUrl);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        AzKvClient client;
        try
        {
            client = ClientOptions.CreateClient(endpoints, forWatch, parseResult.GetValue(ClientOptions.CaFile));
        }
        catch (ArgumentException ex)
        {
            // A CA file that does not exist or holds no certificate (--ca-file, AZKV_CA_FILE or a local up's).
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var shutdown = new ShutdownSignal(cancellationToken);
        using var clientScope = client;
        var context = new CommandContext(parseResult, parseResult.InvocationConfiguration.Output, error);
        try
        {
            return await body(client, context, shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdown.IsRequested)
        {
            // Ctrl-C ends a watch normally; a one-shot request may or may not have been applied.
            return forWatch ? ExitCodes.Ok : ExitCodes.Interrupted;
        }
        catch (AzKvConnectionException ex) when (IsUntrustedCertificate(ex))
        {
            await error.WriteLineAsync(
                $"azkv: {ex.Message}\n" +
                "The server's certificate is not trusted. For a local `azkv up --https`, pass the CA it printed ('ca <file>') with --ca-file " +
                $"(or set {AzKv.Client.Auth.AmbientToken.CaFileVariable}).").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (AzKvConnectionException ex)
        {
            await error.WriteLineAsync(
                $"azkv: {ex.Message}\n" +
                $"Is a node running there? Start a local cluster with `azkv up`, or point --url (or ${ClientOptions.UrlVariable}) at a running node.").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (AzKvPreconditionFailedException ex)
        {
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.PreconditionFailed;
        }
        catch (AzKvCursorExpiredException ex)
        {
            await error.WriteLineAsync(
                $"azkv: {ex.Message}\nThe cursor is older than the change history the server keeps: list the keys again, then watch without --cursor.").ConfigureAwait(false);
            return ExitCodes.CursorExpired;
        }
        catch (AzKvException ex)
        {
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (ArgumentException ex)
        {
            // A key the client rejects before sending (empty, lone surrogate) or a bad option value.
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync("azkv: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    /// <summary>True when the connection failed in the TLS handshake because the server's certificate was refused.</summary>
    private static bool IsUntrustedCertificate(Exception ex)
    {
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What a client command gets besides the client.</summary>
/// <param name="ParseResult">The parsed command line.</param>
/// <param name="Output">Standard output for text.</param>
/// <param name="Error">Standard error for messages.</param>
internal sealed record CommandContext(ParseResult ParseResult, TextWriter Output, TextWriter Error);
