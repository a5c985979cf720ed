namespace AzKv.Extensions.Configuration;

/// <summary>
/// A Key Vault reference could not be resolved. The message names the AzKv key and the secret
/// URI, never a secret value.
/// </summary>
public sealed class AzKvKeyVaultReferenceException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public AzKvKeyVaultReferenceException(string key, Uri? secretUri, string reason, Exception? innerException = null)
        : base($"AzKv key '{key}' is a Key Vault reference{(secretUri is null ? string.Empty : " to " + secretUri)} that could not be resolved: {reason}", innerException)
    {
        Key = key;
        SecretUri = secretUri;
    }

    /// <summary>The AzKv key holding the reference.</summary>
    public string Key { get; }

    /// <summary>The secret it references; null when the reference itself is malformed.</summary>
    public Uri? SecretUri { get; }
}
