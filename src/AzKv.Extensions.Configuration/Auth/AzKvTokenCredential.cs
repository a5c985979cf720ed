using AzKv.Client;
using Azure.Core;

namespace AzKv.Extensions.Configuration;

/// <summary>
/// Entra ID for AzKv: adapts an Azure.Core <see cref="TokenCredential"/> to the client's
/// <see cref="AzKvClientOptions.TokenProvider"/>. The client itself stays free of Azure.Core; it
/// caches the token and refreshes it before <see cref="AccessToken.RefreshOn"/> or expiry.
/// </summary>
public static class AzKvTokenCredential
{
    /// <summary>A token provider that asks <paramref name="credential"/> for tokens of <paramref name="scopes"/>.</summary>
    /// <exception cref="ArgumentException">No scope was given.</exception>
    public static Func<CancellationToken, ValueTask<AzKvAccessToken>> ToTokenProvider(TokenCredential credential, params string[] scopes)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(scopes);
        if (scopes.Length == 0 || scopes.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give the token scope of the AzKv application, e.g. api://<app id>/.default.", nameof(scopes));
        }

        var context = new TokenRequestContext([.. scopes]);
        return async cancellationToken =>
        {
            var token = await credential.GetTokenAsync(context, cancellationToken).ConfigureAwait(false);
            return new AzKvAccessToken(token.Token, token.ExpiresOn, token.RefreshOn);
        };
    }
}
