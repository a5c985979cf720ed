using Azure.Core;
using Azure.Core.Pipeline;
using AzKv.Storage.AzureBlob.Authentication;
using AzKv.Storage.AzureBlob.Configuration;
using AzKv.Storage.AzureBlob.Protocol;

namespace AzKv.Storage.AzureBlob;

/// <summary>Creates <see cref="IBlobStore"/>s backed by Azure Blob Storage (or Azurite).</summary>
/// <remarks>
/// Each store owns one <see cref="HttpPipeline"/>; create one store per container and keep it for
/// the life of the process (stores are thread-safe and hold no per-call state).
/// </remarks>
public static class AzureBlobStores
{
    /// <summary>The OAuth scope of Azure Storage data-plane tokens.</summary>
    private const string StorageScope = "https://storage.azure.com/.default";

    /// <summary>
    /// A store authorized with the account key of a connection string (Shared Key).
    /// <c>UseDevelopmentStorage=true</c> means Azurite at <c>http://127.0.0.1:10000/devstoreaccount1</c>.
    /// </summary>
    /// <param name="connectionString">
    /// <c>DefaultEndpointsProtocol</c>, <c>AccountName</c>, <c>AccountKey</c>, and <c>BlobEndpoint</c> or
    /// <c>EndpointSuffix</c>; or <c>UseDevelopmentStorage=true</c>.
    /// </param>
    /// <param name="containerName">The container every blob name is relative to.</param>
    /// <param name="options">Retry, diagnostics and transport options; null for the defaults.</param>
    /// <exception cref="ArgumentException">The connection string or container name is invalid; the message names the part and never contains the key.</exception>
    public static IBlobStore FromConnectionString(string connectionString, string containerName, AzureBlobStoreOptions? options = null)
    {
        StorageConnectionString parsed = StorageConnectionString.Parse(connectionString);
        BlobPaths.ValidateContainerName(containerName);
        return Create(parsed.BlobEndpoint, containerName, options, new SharedKeyPolicy(parsed.CreateCredential()), TimeProvider.System);
    }

    /// <summary>
    /// A store authorized with Entra ID tokens for <c>https://storage.azure.com/.default</c>
    /// (for example <c>DefaultAzureCredential</c> or <c>ManagedIdentityCredential</c>). The identity needs
    /// Storage Blob Data Contributor (or Reader, for a read-only store) on the account.
    /// </summary>
    /// <param name="accountUrl">The Blob endpoint, e.g. <c>https://myaccount.blob.core.windows.net</c>; https is required for bearer tokens.</param>
    /// <param name="credential">The token credential.</param>
    /// <param name="containerName">The container every blob name is relative to.</param>
    /// <param name="options">Retry, diagnostics and transport options; null for the defaults.</param>
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

        BlobPaths.ValidateContainerName(containerName);
        return Create(accountUrl, containerName, options, new BearerTokenAuthenticationPolicy(credential, StorageScope), TimeProvider.System);
    }

    internal static AzureBlobStore Create(
        Uri blobEndpoint, string containerName, AzureBlobStoreOptions? options, HttpPipelinePolicy authenticationPolicy, TimeProvider timeProvider)
    {
        options ??= new AzureBlobStoreOptions();

        // Per retry, in order: stamp x-ms-version and a fresh x-ms-date, then authenticate
        // (Shared Key signs the headers stamped before it).
        HttpPipeline pipeline = HttpPipelineBuilder.Build(
            options,
            perCallPolicies: [],
            perRetryPolicies: [new StorageRequestPolicy(timeProvider), authenticationPolicy],
            responseClassifier: null);

        return new AzureBlobStore(pipeline, BlobPaths.ContainerUri(blobEndpoint, containerName), containerName);
    }
}
