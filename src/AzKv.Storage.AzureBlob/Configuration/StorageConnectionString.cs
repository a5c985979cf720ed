namespace AzKv.Storage.AzureBlob.Configuration;

/// <summary>
/// A parsed Azure Storage connection string: account name, account key and Blob endpoint.
/// Supports <c>UseDevelopmentStorage=true</c> (Azurite on 127.0.0.1:10000) and the keys
/// <c>DefaultEndpointsProtocol</c>, <c>AccountName</c>, <c>AccountKey</c>, <c>BlobEndpoint</c>
/// and <c>EndpointSuffix</c>; other keys (QueueEndpoint, TableEndpoint, ...) are ignored.
/// </summary>
/// <remarks>
/// Error messages name the part that is missing or invalid and never repeat any value from
/// the string: a malformed part could be (or contain) the key.
/// </remarks>
internal sealed class StorageConnectionString
{
    /// <summary>Azurite's well-known account.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known, public key (it is printed in Azurite's own README).</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Azurite's default Blob endpoint (path-style: the account is the first path segment).</summary>
    public static readonly Uri DevelopmentBlobEndpoint = new("http://127.0.0.1:10000/devstoreaccount1");

    private const string DefaultEndpointSuffix = "core.windows.net";

    private readonly byte[] _accountKey;

    private StorageConnectionString(string accountName, byte[] accountKey, Uri blobEndpoint)
    {
        AccountName = accountName;
        _accountKey = accountKey;
        BlobEndpoint = blobEndpoint;
    }

    /// <summary>The storage account name (signs requests; for Azurite, <c>devstoreaccount1</c>).</summary>
    public string AccountName { get; }

    /// <summary>The Blob service endpoint (for path-style endpoints, including the account segment).</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>Creates the Shared Key credential; the only way the key leaves this type.</summary>
    public Authentication.SharedKeyCredential CreateCredential() => new(AccountName, _accountKey);

    /// <summary>Parses <paramref name="connectionString"/>.</summary>
    /// <exception cref="ArgumentException">A part is missing or invalid; the message names it.</exception>
    public static StorageConnectionString Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw Invalid("The storage connection string is empty.");
        }

        string? useDevelopmentStorage = null;
        string? developmentProxy = null;
        string? protocol = null;
        string? accountName = null;
        string? accountKey = null;
        string? blobEndpoint = null;
        string? endpointSuffix = null;
        string? sharedAccessSignature = null;

        int partNumber = 0;
        foreach (string rawPart in connectionString.Split(';'))
        {
            string part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            partNumber++;
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Invalid($"Part {partNumber} of the storage connection string is not 'Name=Value'.");
            }

            string name = part[..eq].Trim();
            string value = part[(eq + 1)..].Trim();
            switch (name.ToUpperInvariant())
            {
                case "USEDEVELOPMENTSTORAGE":
                    Set(ref useDevelopmentStorage, value, "UseDevelopmentStorage");
                    break;
                case "DEVELOPMENTSTORAGEPROXYURI":
                    Set(ref developmentProxy, value, "DevelopmentStorageProxyUri");
                    break;
                case "DEFAULTENDPOINTSPROTOCOL":
                    Set(ref protocol, value, "DefaultEndpointsProtocol");
                    break;
                case "ACCOUNTNAME":
                    Set(ref accountName, value, "AccountName");
                    break;
                case "ACCOUNTKEY":
                    Set(ref accountKey, value, "AccountKey");
                    break;
                case "BLOBENDPOINT":
                    Set(ref blobEndpoint, value, "BlobEndpoint");
                    break;
                case "ENDPOINTSUFFIX":
                    Set(ref endpointSuffix, value, "EndpointSuffix");
                    break;
                case "SHAREDACCESSSIGNATURE":
                    Set(ref sharedAccessSignature, value, "SharedAccessSignature");
                    break;
                default:
                    // QueueEndpoint, TableEndpoint, FileEndpoint, ...: not ours. The name is not
                    // echoed: a malformed part could be part of the key.
                    break;
            }
        }

        if (useDevelopmentStorage is not null)
        {
            if (!string.Equals(useDevelopmentStorage, "true", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid("UseDevelopmentStorage in the storage connection string must be 'true' when present.");
            }

            if (developmentProxy is not null)
            {
                throw Invalid("DevelopmentStorageProxyUri in the storage connection string is not supported.");
            }

            if (accountName is not null || accountKey is not null || blobEndpoint is not null || sharedAccessSignature is not null)
            {
                throw Invalid(
                    "UseDevelopmentStorage=true in the storage connection string cannot be combined with AccountName, AccountKey, " +
                    "BlobEndpoint or SharedAccessSignature; spell out the Azurite account instead.");
            }

            return new StorageConnectionString(
                DevelopmentAccountName, Convert.FromBase64String(DevelopmentAccountKey), DevelopmentBlobEndpoint);
        }

        if (sharedAccessSignature is not null)
        {
            throw Invalid(
                "SharedAccessSignature in the storage connection string is not supported; use AccountKey, " +
                "or Entra ID through AzureBlobStores.FromAccountUrl.");
        }

        if (string.IsNullOrEmpty(accountName))
        {
            throw Invalid("AccountName is missing from the storage connection string.");
        }

        if (!IsValidAccountName(accountName))
        {
            throw Invalid("AccountName in the storage connection string is invalid (letters and digits only).");
        }

        if (string.IsNullOrEmpty(accountKey))
        {
            throw Invalid("AccountKey is missing from the storage connection string.");
        }

        byte[] key = new byte[(accountKey.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(accountKey, key, out int keyLength) || keyLength == 0)
        {
            throw Invalid("AccountKey in the storage connection string is not valid base64.");
        }

        Array.Resize(ref key, keyLength);

        string scheme = "https";
        if (protocol is not null)
        {
            if (string.Equals(protocol, "https", StringComparison.OrdinalIgnoreCase))
            {
                scheme = "https";
            }
            else if (string.Equals(protocol, "http", StringComparison.OrdinalIgnoreCase))
            {
                scheme = "http";
            }
            else
            {
                throw Invalid("DefaultEndpointsProtocol in the storage connection string must be 'http' or 'https'.");
            }
        }

        Uri endpoint;
        if (blobEndpoint is not null)
        {
            if (!Uri.TryCreate(blobEndpoint, UriKind.Absolute, out Uri? parsed)
                || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps)
                || parsed.Query.Length > 0
                || parsed.Fragment.Length > 0
                || parsed.UserInfo.Length > 0)
            {
                throw Invalid("BlobEndpoint in the storage connection string must be an absolute http or https URL without a query.");
            }

            endpoint = parsed;
        }
        else
        {
            string suffix = endpointSuffix ?? DefaultEndpointSuffix;
            if (suffix.Length == 0
                || suffix.Contains('/', StringComparison.Ordinal)
                || suffix.Contains(':', StringComparison.Ordinal)
                || !Uri.TryCreate($"{scheme}://{accountName}.blob.{suffix}", UriKind.Absolute, out Uri? built))
            {
                throw Invalid("EndpointSuffix in the storage connection string must be a DNS suffix such as 'core.windows.net'.");
            }

            endpoint = built;
        }

        return new StorageConnectionString(accountName, key, endpoint);
    }

    /// <summary>Never includes the key.</summary>
    public override string ToString() => $"AccountName={AccountName};BlobEndpoint={BlobEndpoint}";

    private static void Set(ref string? slot, string value, string name)
    {
        if (slot is not null)
        {
            throw Invalid($"{name} appears more than once in the storage connection string.");
        }

        slot = value;
    }

    private static bool IsValidAccountName(string name)
    {
        // Azure: 3-24 lowercase letters and digits. Azurite accepts custom accounts (AZURITE_ACCOUNTS)
        // with other casing, so only the character set is checked here; the service checks the rest.
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static ArgumentException Invalid(string message) => new(message, "connectionString");
}
