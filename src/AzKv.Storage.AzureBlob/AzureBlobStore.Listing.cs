using Azure;
using Azure.Storage.Blobs.Models;
using AzKv.Storage.AzureBlob.Errors;

namespace AzKv.Storage.AzureBlob;

/// <summary>List Blobs, one page per call (<c>GetBlobsAsync(...).AsPages(token, size)</c>).</summary>
internal sealed partial class AzureBlobStore
{
    /// <summary>The service returns at most this many blobs per page.</summary>
    private const int MaxPageSize = 5000;

    public async Task<BlobListPage> ListAsync(
        string prefix, string? continuationToken, int? pageSizeHint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (pageSizeHint is int hint)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hint, nameof(pageSizeHint));
        }

        var context = new OperationContext("List Blobs", ContainerName, null);
        var options = new GetBlobsOptions { Prefix = prefix.Length > 0 ? prefix : null };
        int? size = pageSizeHint is int requested ? Math.Min(requested, MaxPageSize) : null;
        try
        {
            IAsyncEnumerable<Page<Azure.Storage.Blobs.Models.BlobItem>> pages = _container
                .GetBlobsAsync(options, cancellationToken)
                .AsPages(string.IsNullOrEmpty(continuationToken) ? null : continuationToken, size);
            await foreach (Page<Azure.Storage.Blobs.Models.BlobItem> page in pages.ConfigureAwait(false))
            {
                // One service request per call: the caller pages with the token.
                return ToListPage(page);
            }

            return new BlobListPage([], null);
        }
        catch (Exception ex) when (BlobErrors.TryTranslate(ex, context, cancellationToken, out Exception translated))
        {
            throw translated;
        }
    }

    private static BlobListPage ToListPage(Page<Azure.Storage.Blobs.Models.BlobItem> page)
    {
        var items = new List<BlobItem>(page.Values.Count);
        foreach (Azure.Storage.Blobs.Models.BlobItem item in page.Values)
        {
            BlobItemProperties properties = item.Properties;
            if (ToKind(properties.BlobType) is not BlobKind kind)
            {
                continue; // page blobs are not part of the contract
            }

            items.Add(new BlobItem(
                item.Name,
                FromETag(properties.ETag ?? default),
                properties.ContentLength ?? 0,
                kind,
                properties.LastModified ?? default,
                ToLeaseState(properties.LeaseState),
                properties.IsSealed ?? false));
        }

        return new BlobListPage(items, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
    }
}
