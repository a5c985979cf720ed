using Azure.Core;
using Azure.Security.KeyVault.Secrets;

namespace AzKv.Extensions.Configuration;

/// <summary>
/// How the provider resolves Key Vault references (<see cref="AzKvConfigurationOptions.ConfigureKeyVault"/>):
/// values with content type <c>application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8</c>
/// and body <c>{"uri":"https://&lt;vault&gt;/secrets/&lt;name&gt;[/&lt;version&gt;]"}</c>, as Azure App
/// Configuration stores them. The setting gets the secret's value; the reference itself is what
/// AzKv and the last-known-good copy hold.
/// </summary>
public sealed class AzKvKeyVaultOptions
{
    /// <summary>The shortest secret refresh interval.</summary>
    public static readonly TimeSpan MinimumSecretRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>The default secret refresh interval (1 h): a rotated secret reaches the app within it.</summary>
    public static readonly TimeSpan DefaultSecretRefreshInterval = TimeSpan.FromHours(1);

    private readonly Dictionary<string, SecretClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    internal AzKvKeyVaultOptions()
    {
    }

    internal TokenCredential? Credential { get; private set; }

    internal SecretClientOptions? ClientOptions { get; private set; }

    internal Func<Uri, CancellationToken, ValueTask<string>>? SecretResolver { get; private set; }

    internal TimeSpan SecretRefreshInterval { get; private set; } = DefaultSecretRefreshInterval;

    internal IReadOnlyDictionary<string, SecretClient> Clients => _clients;

    /// <summary>
    /// The credential for vaults without a registered client (e.g. <c>DefaultAzureCredential</c>,
    /// a managed identity): the app's own, with Key Vault Secrets User on the vaults.
    /// </summary>
    public AzKvKeyVaultOptions SetCredential(TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        Credential = credential;
        return this;
    }

    /// <summary>Options (retries, transport, service version) for the clients made with <see cref="SetCredential"/>.</summary>
    public AzKvKeyVaultOptions SetClientOptions(SecretClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ClientOptions = options;
        return this;
    }

    /// <summary>Uses <paramref name="client"/> for the secrets of its vault (<see cref="SecretClient.VaultUri"/>).</summary>
    public AzKvKeyVaultOptions Register(SecretClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _clients[VaultKey(client.VaultUri)] = client;
        return this;
    }

    /// <summary>
    /// Resolves secrets of vaults that have neither a registered client nor a credential: given
    /// the secret's URI, return its value (e.g. from a secret store of the app's own).
    /// </summary>
    public AzKvKeyVaultOptions SetSecretResolver(Func<Uri, CancellationToken, ValueTask<string>> resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        SecretResolver = resolver;
        return this;
    }

    /// <summary>
    /// How often each resolved secret is read again (so a new version of a reference without a
    /// version arrives); at least <see cref="MinimumSecretRefreshInterval"/>, default
    /// <see cref="DefaultSecretRefreshInterval"/>. Checked when <c>AddAzKv</c> runs.
    /// </summary>
    public AzKvKeyVaultOptions SetSecretRefreshInterval(TimeSpan interval)
    {
        SecretRefreshInterval = interval;
        return this;
    }

    internal static string VaultKey(Uri vault) => vault.GetLeftPart(UriPartial.Authority);

    internal void Validate()
    {
        if (SecretRefreshInterval < MinimumSecretRefreshInterval)
        {
            throw new InvalidOperationException(
                $"AddAzKv: ConfigureKeyVault(kv => kv.SetSecretRefreshInterval(...)) must be at least {MinimumSecretRefreshInterval.TotalSeconds:0} s (it is {SecretRefreshInterval}).");
        }
    }
}
