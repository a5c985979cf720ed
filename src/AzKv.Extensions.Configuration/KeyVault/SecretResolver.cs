using System.Collections.Concurrent;
using Azure;
using Azure.Security.KeyVault.Secrets;

namespace AzKv.Extensions.Configuration.KeyVault;

/// <summary>
/// Reads a referenced secret: with the vault's registered <see cref="SecretClient"/>, else a client
/// made with the app's credential (one per vault), else the app's own resolver. Every failure is an
/// <see cref="AzKvKeyVaultReferenceException"/> naming the key and the secret URI.
/// </summary>
internal sealed class SecretResolver(AzKvKeyVaultOptions? options)
{
    private readonly ConcurrentDictionary<string, SecretClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public async Task<string> ResolveAsync(string key, Uri secretUri, CancellationToken cancellationToken)
    {
        if (options is null)
        {
            throw new AzKvKeyVaultReferenceException(key, secretUri, "Key Vault references are not configured; call ConfigureKeyVault(kv => kv.SetCredential(...)) in AddAzKv.");
        }

        var vault = AzKvKeyVaultOptions.VaultKey(secretUri);
        try
        {
            var client = options.Clients.GetValueOrDefault(vault);
            if (client is null && options.Credential is not null)
            {
                client = _clients.GetOrAdd(vault, v => new SecretClient(new Uri(v), options.Credential, options.ClientOptions ?? new SecretClientOptions()));
            }

            if (client is not null)
            {
                var identifier = new KeyVaultSecretIdentifier(secretUri);
                var secret = await client.GetSecretAsync(identifier.Name, identifier.Version, cancellationToken).ConfigureAwait(false);
                return secret.Value.Value ?? string.Empty;
            }

            if (options.SecretResolver is not null)
            {
                return await options.SecretResolver(secretUri, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex)
        {
            // The service's error code and status only: its message may echo request details.
            throw new AzKvKeyVaultReferenceException(key, secretUri, $"Key Vault answered {ex.Status}{(ex.ErrorCode is null ? string.Empty : " (" + ex.ErrorCode + ")")}.", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new AzKvKeyVaultReferenceException(key, secretUri, $"{ex.GetType().Name}: {ex.Message}", ex);
        }

        throw new AzKvKeyVaultReferenceException(key, secretUri, $"no client is registered for {vault} and neither SetCredential nor SetSecretResolver was called in ConfigureKeyVault.");
    }
}
