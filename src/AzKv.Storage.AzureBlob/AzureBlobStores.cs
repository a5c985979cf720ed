using Azure.Core;
using Azure.Storage.Blobs;

namespace AzKv.Storage.AzureBlob;

/// <summary>Creates <see cref="IBlobStore"/>s backed by Azure Blob Storage (or Azurite), on Azure.Storage.Blobs.</summary>
/// <remarks>
/// Each store owns one SDK <see cref="BlobContainerClient"/> (and its pipeline); create one store per
/// container and keep it for the life of the process (stores are thread-safe and hold no per-call state).
/// </remarks>
public static class AzureBlobStores
{
    /// <summary>
    /// A store authorized with the account key of a connection string (Shared Key), parsed by the SDK.
    /// <c>UseDevelopmentStorage=true</c> means Azurite at <c>http://127.0.0.1:10000/devstoreaccount1</c>.
    /// </summary>
    /// <param name="connectionString">
    /// <c>DefaultEndpointsProtocol</c>, <c>AccountName</c>, <c>AccountKey</c>, and <c>BlobEndpoint</c> or
    /// <c>EndpointSuffix</c>; or <c>UseDevelopmentStorage=true</c>.
    /// </param>
    /// <param name="containerName">The container every blob name is relative to.</param>
    /// <param name="options">Retry and transport options; null for the defaults.</param>
    /// <exception cref="ArgumentException">The connection string or container name is invalid; the message never repeats the string (it holds the key).</exception>
    public static IBlobStore FromConnectionString(string connectionString, string containerName, AzureBlobStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        BlobNames.ValidateContainerName(containerName);
        BlobClientOptions clientOptions = (options ?? new AzureBlobStoreOptions()).ToClientOptions();
        BlobServiceClient service;
        try
        {
            service = new BlobServiceClient(connectionString, clientOptions);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            // Not chained and not echoed: the SDK's parser messages could quote a part of the string.
            throw new ArgumentException(
                "The storage connection string is invalid: it needs AccountName and AccountKey (base64) with BlobEndpoint or "
                + "DefaultEndpointsProtocol/EndpointSuffix, or UseDevelopmentStorage=true. SAS-only strings are not supported.",
                nameof(connectionString));
        }

        if (service.AccountName is null || !service.CanGenerateAccountSasUri)
        {
            // The SDK accepts a SAS connection string too; AzKv authorizes with a key or Entra ID only.
            throw new ArgumentException(
                "The storage connection string has no AccountName/AccountKey pair (SAS-only strings are not supported; use a key or Entra ID).",
                nameof(connectionString));
        }

        return new AzureBlobStore(service.GetBlobContainerClient(containerName));
    }

    /// <summary>
    /// A store authorized with Entra ID tokens (for example <c>DefaultAzureCredential</c> or
    /// <c>ManagedIdentityCredential</c>); the SDK asks for <c>https://storage.azure.com/.default</c>. The identity
    /// needs Storage Blob Data Contributor (or Reader, for a read-only store) on the account.
    /// </summary>
    /// <param name="accountUrl">The Blob endpoint, e.g. <c>https://myaccount.blob.core.windows.net</c>; https is required for bearer tokens.</param>
    /// <param name="credential">The token credential.</param>
    /// <param name="containerName">The container every blob name is relative to.</param>
    /// <param name="options">Retry and transport options; null for the defaults.</param>
    /// <exception cref="ArgumentException">The URL is not an absolute https URL without a query, or the container name is invalid.</exception>
    public static IBlobStore FromAccountUrl(Uri accountUrl, TokenCredential credential, string containerName, AzureBlobStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(accountUrl);
        ArgumentNullException.ThrowIfNull(credential);
        if (!accountUrl.IsAbsoluteUri || accountUrl.Scheme != Uri.UriSchemeHttps || accountUrl.Query.Length > 0 || accountUrl.UserInfo.Length > 0)
        {
            // The URL itself is not repeated: a pasted SAS URL would carry its signature.
            throw new ArgumentException(
                "The account URL must be an absolute https URL without a query (bearer tokens are never sent over http; SAS URLs are not supported).",
                nameof(accountUrl));
        }

        BlobNames.ValidateContainerName(containerName);
        var service = new BlobServiceClient(accountUrl, credential, (options ?? new AzureBlobStoreOptions()).ToClientOptions());
        return new AzureBlobStore(service.GetBlobContainerClient(containerName));
    }
}
